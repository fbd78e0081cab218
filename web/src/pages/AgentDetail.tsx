import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';

import { api, call } from '../api/client';
import { rollbackAgent } from '../api/rollback';
import type { Agent, AgentCreate, AgentIn } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigDetailPage } from '../components/ConfigDetail';
import { SectionCard } from '../components/ConfigList';
import { ErrorMessage } from '../components/ErrorMessage';
import { Props } from '../components/Props';
import { TryIt } from '../components/TryIt';
import { useEditing, useSubmit, withoutName } from '../lib/form';
import { AgentForm } from './config/AgentForm';
import { VersionDiff } from './config/VersionDiff';
import { TableWrap } from '../components/TableWrap';

function Definition({ agent }: { agent: Agent }) {
  const rows: [string, ReactNode][] = [
    ['Description', agent.description || '—'],
    ['Provider', <Link to="/providers">{agent.provider}</Link>],
    ['Model', agent.model || 'the provider’s default model'],
    [
      'Tools',
      agent.tools.length === 0
        ? 'none'
        : agent.tools.map((t, i) => (
            <span key={t}>
              {i > 0 ? ', ' : ''}
              <Link to={`/tools/${encodeURIComponent(t)}`}>{t}</Link>
            </span>
          )),
    ],
    [
      'Fallbacks',
      agent.fallbacks.length === 0
        ? 'none'
        : agent.fallbacks.map((f) => `${f.provider}${f.model ? ` / ${f.model}` : ''}`).join(' → '),
    ],
    ['Prompt variables', agent.prompt_variables.length === 0 ? 'none' : agent.prompt_variables.join(', ')],
    ['Max steps', agent.max_steps],
    ['Temperature', agent.temperature ?? 'provider default'],
    ['Token budget', agent.max_total_tokens ?? 'none'],
    ['Cost budget (USD)', agent.max_cost_usd ?? 'none'],
    ['Time budget (s)', agent.max_duration_s ?? 'none'],
    ['Model call', `${agent.model_timeout_s} s timeout, ${agent.model_max_attempts} attempts`],
    ['Approval timeout (s)', agent.approval_timeout_s],
    ['When a tool fails', agent.on_tool_error === 'fail' ? 'fail the run' : 'continue'],
    ['Output schema', agent.output_schema ? <code>{JSON.stringify(agent.output_schema)}</code> : 'none'],
    ['Output repairs', agent.max_output_repairs],
    ['Script', agent.script.length === 0 ? 'none' : `${agent.script.length} turns`],
    ['Updated', new Date(agent.updated_at).toLocaleString()],
  ];
  return (
    <SectionCard id="definition" title={`Version ${agent.version} (current)`}>
      <Props rows={rows} />
      <h3>System prompt</h3>
      <pre className="prompt">{agent.system_prompt || '(empty)'}</pre>
    </SectionCard>
  );
}

function VersionSelect({
  id,
  label,
  list,
  value,
  onChange,
}: {
  id: string;
  label: string;
  list: readonly Agent[];
  value: number;
  onChange: (version: number) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {list.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </div>
  );
}

function Versions({
  name,
  current,
  admin,
  onRolledBack,
}: {
  name: string;
  current: number;
  admin: boolean;
  onRolledBack: (agent: Agent) => void;
}) {
  const versions = useApi(
    (signal) => call(api.GET('/v1/agents/{name}/versions', { params: { path: { name } }, signal })),
    [name, current],
  );
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const rollback = useSubmit();
  const [rolledBack, setRolledBack] = useState<string | null>(null);

  if (versions.state === 'loading') return <p>Loading versions…</p>;
  if (versions.state === 'error') return <ErrorMessage error={versions.error} />;
  const list = [...versions.data].sort((a, b) => b.version - a.version);
  const toVersion = to ?? list[0]?.version ?? current;
  const fromVersion = from ?? list[1]?.version ?? toVersion;
  const before = list.find((v) => v.version === fromVersion);
  const after = list.find((v) => v.version === toVersion);

  const doRollback = async (version: number) => {
    setRolledBack(null);
    const agent = await rollback.run(() => rollbackAgent(name, version));
    if (agent) {
      setRolledBack(`Rolled back: version ${agent.current_version} is now current, a copy of version ${version}.`);
      setFrom(null);
      setTo(null);
      onRolledBack(agent);
    }
  };

  return (
    <SectionCard id="versions" title="Versions">
      {rolledBack ? (
        <p role="status" className="ok-message">
          {rolledBack}
        </p>
      ) : null}
      <ErrorMessage error={rollback.error} />
      <TableWrap label={`Versions of ${name}`}>
        <table>
          <caption className="sr-only">Versions of {name}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Written</th>
              <th scope="col">Model</th>
              <th scope="col">Tools</th>
              {admin ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <tr key={v.version}>
                <td>
                  v{v.version}
                  {v.version === current ? <span className="badge">current</span> : null}
                </td>
                <td>{new Date(v.created_at).toLocaleString()}</td>
                <td>
                  {v.provider}
                  {v.model ? ` / ${v.model}` : ''}
                </td>
                <td>{v.tools.join(', ') || 'none'}</td>
                {admin ? (
                  <td>
                    {v.version === current ? null : (
                      <button
                        type="button"
                        className="secondary"
                        disabled={rollback.busy}
                        onClick={() => void doRollback(v.version)}
                      >
                        Roll back to this version <span className="sr-only">(v{v.version})</span>
                      </button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {list.length > 1 ? (
        <>
          <h3>Compare two versions</h3>
          <div className="form-grid compare">
            <VersionSelect id="diff-from" label="From version" list={list} value={fromVersion} onChange={setFrom} />
            <VersionSelect id="diff-to" label="To version" list={list} value={toVersion} onChange={setTo} />
          </div>
          {before && after ? <VersionDiff before={before} after={after} /> : null}
        </>
      ) : (
        <p className="field-hint">Only one version so far: an edit that changes the agent writes the next.</p>
      )}
    </SectionCard>
  );
}

/** /ui/agents/:name: the agent's current version, edit, delete, its versions and "try it". */
export function AgentDetail() {
  const { name = '' } = useParams();
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const { editing, setEditing, submit, formProps } = useEditing(false);
  const [saved, setSaved] = useState<Agent | null>(null);
  const loaded = useApi(
    (signal) =>
      Promise.all([
        call(api.GET('/v1/agents/{name}', { params: { path: { name } }, signal })),
        call(api.GET('/v1/providers', { signal })),
        call(api.GET('/v1/tools', { signal })),
      ]),
    [name],
  );
  const agent = saved?.name === name ? saved : loaded.data?.[0];

  const update = (body: AgentCreate) =>
    submit(
      () => call(api.PUT('/v1/agents/{name}', { params: { path: { name } }, body: withoutName<AgentIn>(body) })),
      setSaved,
    );

  return (
    <ConfigDetailPage
      title={`Agent ${name}`}
      noun="agent"
      list="agents"
      loaded={loaded}
      notFound={<p>There is no agent named “{name}”: it may have been deleted or renamed.</p>}
      loading={!agent}
      canEdit={admin && !!agent && !editing}
      onEdit={() => setEditing(true)}
      deleteQuestion={`Delete agent ${name} and all its versions?`}
      onDelete={async () => {
        await call(api.DELETE('/v1/agents/{name}', { params: { path: { name } } }));
        void navigate('/agents');
      }}
    >
      {agent && editing && loaded.data ? (
        <SectionCard id="edit-agent" title={`Edit ${name}`}>
          <p className="field-hint">
            Saving a change to its definition writes version {agent.current_version + 1} (the description is not
            versioned); runs started before keep theirs.
          </p>
          <AgentForm
            agent={agent}
            providers={loaded.data[1]}
            tools={loaded.data[2]}
            {...formProps}
            onSave={(body) => void update(body)}
          />
        </SectionCard>
      ) : null}
      {agent ? (
        <div className="detail-grid">
          {editing ? null : <Definition agent={agent} />}
          {allows(who, 'run') ? (
            <TryIt target={{ kind: 'agent', agent: name }} variables={agent.prompt_variables} />
          ) : null}
          <Versions name={name} current={agent.current_version} admin={admin} onRolledBack={setSaved} />
        </div>
      ) : null}
    </ConfigDetailPage>
  );
}
