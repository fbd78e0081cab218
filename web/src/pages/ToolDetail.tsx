import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';

import { api, call } from '../api/client';
import type { Tool, ToolCreate, ToolIn } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfirmButton } from '../components/ConfirmButton';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import { useSubmit } from '../lib/form';
import { ToolForm } from './config/ToolForm';

function toolIn(body: ToolCreate): ToolIn {
  const copy: Partial<ToolCreate> = { ...body };
  delete copy.name;
  return copy as ToolIn;
}

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
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<Tool | null>(null);
  const save = useSubmit();
  const loaded = useApi((signal) => call(api.GET('/v1/tools/{name}', { params: { path: { name } }, signal })), [name]);
  const tool = saved?.name === name ? saved : loaded.data;

  const update = async (body: ToolCreate) => {
    const next = await save.run(() =>
      call(api.PUT('/v1/tools/{name}', { params: { path: { name } }, body: toolIn(body) })),
    );
    if (next) {
      setSaved(next);
      setEditing(false);
    }
  };

  if (loaded.state === 'error') {
    return (
      <Page title={`Tool ${name}`}>
        {loaded.error.status === 404 ? (
          <EmptyState title="No such tool" action={<Link to="/tools">Back to tools</Link>}>
            <p>There is no tool named “{name}”.</p>
          </EmptyState>
        ) : (
          <ErrorMessage error={loaded.error} />
        )}
      </Page>
    );
  }
  const leadsTo = tool ? target(tool) : null;
  return (
    <Page
      title={`Tool ${name}`}
      actions={
        admin && tool && !editing ? (
          <>
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
            <ConfirmButton
              label="Delete"
              question={`Delete tool ${name}?`}
              confirmLabel="Yes, delete"
              onConfirm={async () => {
                await call(api.DELETE('/v1/tools/{name}', { params: { path: { name } } }));
                void navigate('/tools');
              }}
            />
          </>
        ) : null
      }
    >
      <p>
        <Link to="/tools">← All tools</Link>
      </p>
      {!tool ? <p>Loading the tool…</p> : null}
      {tool && editing ? (
        <section className="card" aria-labelledby="edit-tool">
          <h2 id="edit-tool">Edit {name}</h2>
          <p className="field-hint">Tools are not versioned: a change applies to the runs started after it.</p>
          <ToolForm
            tool={tool}
            saveError={save.error}
            busy={save.busy}
            onSave={(body) => void update(body)}
            onCancel={() => {
              setEditing(false);
              save.setError(null);
            }}
          />
        </section>
      ) : null}
      {tool && !editing ? (
        <section className="card" aria-labelledby="tool-def">
          <h2 id="tool-def">Definition</h2>
          <dl className="props">
            <div>
              <dt>Kind</dt>
              <dd>
                {tool.kind}
                {leadsTo ? <>: {leadsTo}</> : null}
              </dd>
            </div>
            <div>
              <dt>Description</dt>
              <dd>{tool.description || '—'}</dd>
            </div>
            <div>
              <dt>Timeout</dt>
              <dd>{tool.timeout_s} s</dd>
            </div>
            <div>
              <dt>Retry attempts</dt>
              <dd>{tool.retry_attempts}</dd>
            </div>
            <div>
              <dt>Approval</dt>
              <dd>{tool.requires_approval ? 'required for each call' : 'not required'}</dd>
            </div>
            <div>
              <dt>Result size</dt>
              <dd>{tool.max_result_chars} characters</dd>
            </div>
            <div>
              <dt>Idempotent</dt>
              <dd>
                {tool.idempotent ? 'yes' : 'no'}
                {tool.idempotent
                  ? ''
                  : ` (unknown outcome: ${tool.on_unknown_outcome === 'ask' ? 'ask a person' : 'report'})`}
              </dd>
            </div>
          </dl>
          <h3>Parameters schema</h3>
          <pre className="prompt">{JSON.stringify(tool.parameters, null, 2)}</pre>
          <h3>Config</h3>
          <pre className="prompt">{JSON.stringify(tool.config, null, 2)}</pre>
        </section>
      ) : null}
    </Page>
  );
}
