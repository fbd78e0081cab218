import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';

import { api, call } from '../api/client';
import type { Tool, ToolCreate, ToolIn } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigDetailPage } from '../components/ConfigDetail';
import { SectionCard } from '../components/ConfigList';
import { Props } from '../components/Props';
import { useEditing, withoutName } from '../lib/form';
import { ToolForm } from './config/ToolForm';

/** Where a tool leads: its sub-agent, or its MCP server. */
function target(tool: Tool): ReactNode {
  const config = tool.config as Record<string, unknown>;
  if (tool.kind === 'agent' && typeof config.agent === 'string') {
    return (
      <>
        runs agent <Link to={`/agents/${encodeURIComponent(config.agent)}`}>{config.agent}</Link>
      </>
    );
  }
  if (tool.kind === 'mcp' && typeof config.server === 'string') {
    return (
      <>
        tool <code>{String(config.tool ?? '')}</code> of MCP server <Link to="/mcp-servers">{config.server}</Link>
        {config.stale ? ' (stale: the server no longer lists it)' : ''}
      </>
    );
  }
  return null;
}

/** /ui/tools/:name: a tool's definition, edit and delete. */
export function ToolDetail() {
  const { name = '' } = useParams();
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  const { editing, setEditing, submit, formProps } = useEditing(false);
  const [saved, setSaved] = useState<Tool | null>(null);
  const loaded = useApi((signal) => call(api.GET('/v1/tools/{name}', { params: { path: { name } }, signal })), [name]);
  const tool = saved?.name === name ? saved : loaded.data;

  const update = (body: ToolCreate) =>
    submit(
      () => call(api.PUT('/v1/tools/{name}', { params: { path: { name } }, body: withoutName<ToolIn>(body) })),
      setSaved,
    );

  const leadsTo = tool ? target(tool) : null;
  return (
    <ConfigDetailPage
      title={`Tool ${name}`}
      noun="tool"
      list="tools"
      loaded={loaded}
      notFound={<p>There is no tool named “{name}”.</p>}
      loading={!tool}
      canEdit={admin && !!tool && !editing}
      onEdit={() => setEditing(true)}
      deleteQuestion={`Delete tool ${name}?`}
      onDelete={async () => {
        await call(api.DELETE('/v1/tools/{name}', { params: { path: { name } } }));
        void navigate('/tools');
      }}
    >
      {tool && editing ? (
        <SectionCard id="edit-tool" title={`Edit ${name}`}>
          <p className="field-hint">Tools are not versioned: a change applies to the runs started after it.</p>
          <ToolForm tool={tool} {...formProps} onSave={(body) => void update(body)} />
        </SectionCard>
      ) : null}
      {tool && !editing ? (
        <SectionCard id="tool-def" title="Definition">
          <Props
            rows={[
              [
                'Kind',
                <>
                  {tool.kind}
                  {leadsTo ? <>: {leadsTo}</> : null}
                </>,
              ],
              ['Description', tool.description || '—'],
              ['Timeout', `${tool.timeout_s} s`],
              ['Retry attempts', tool.retry_attempts],
              ['Approval', tool.requires_approval ? 'required for each call' : 'not required'],
              ['Result size', `${tool.max_result_chars} characters`],
              [
                'Idempotent',
                tool.idempotent
                  ? 'yes'
                  : `no (unknown outcome: ${tool.on_unknown_outcome === 'ask' ? 'ask a person' : 'report'})`,
              ],
            ]}
          />
          <h3>Parameters schema</h3>
          <pre className="prompt">{JSON.stringify(tool.parameters, null, 2)}</pre>
          <h3>Config</h3>
          <pre className="prompt">{JSON.stringify(tool.config, null, 2)}</pre>
        </SectionCard>
      ) : null}
    </ConfigDetailPage>
  );
}
