import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';

import { api, call, type ApiError } from '../api/client';
import type { McpServer, McpServerCreate, McpServerIn } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfirmButton } from '../components/ConfirmButton';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { FormError } from '../components/FormError';
import { JsonField } from '../components/JsonField';
import { Page } from '../components/Page';
import { errorsUnder, numberOrDefault, numberText, useSubmit } from '../lib/form';
import { jsonText, parseJsonField } from '../lib/json';

type Transport = McpServerCreate['transport'];
const FIELDS = ['name', 'transport', 'url', 'headers', 'command', 'args', 'env', 'timeout_s'] as const;

function serverIn(body: McpServerCreate): McpServerIn {
  const copy: Partial<McpServerCreate> = { ...body };
  delete copy.name;
  return copy as McpServerIn;
}

function McpServerForm({
  server,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  server?: McpServer;
  saveError: ApiError | null;
  busy: boolean;
  onSave: (body: McpServerCreate) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(server?.name ?? '');
  const [transport, setTransport] = useState<Transport>(server?.transport ?? 'http');
  const [url, setUrl] = useState(server?.url ?? '');
  const [headers, setHeaders] = useState(jsonText(server?.headers));
  const [command, setCommand] = useState(server?.command ?? '');
  const [args, setArgs] = useState((server?.args ?? []).join('\n'));
  const [env, setEnv] = useState(jsonText(server?.env));
  const [timeout, setTimeoutS] = useState(numberText(server?.timeout_s ?? 30));
  const [jsonErrors, setJsonErrors] = useState<Record<string, string | undefined>>({});
  const onLocalError = (field: string, message: string | undefined) =>
    setJsonErrors((old) => ({ ...old, [field]: message }));
  const err = (field: string) => errorsUnder(saveError, field);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const h = parseJsonField<Record<string, string>>(headers, 'object');
    const e = parseJsonField<Record<string, string>>(env, 'object');
    setJsonErrors({ headers: h.ok ? undefined : h.message, env: e.ok ? undefined : e.message });
    if (!h.ok || !e.ok) return;
    const http = transport === 'http';
    onSave({
      name: name.trim(),
      transport,
      url: http && url.trim() !== '' ? url.trim() : null,
      headers: http ? (h.value ?? {}) : {},
      command: !http && command.trim() !== '' ? command.trim() : null,
      args: http ? [] : args.split('\n').filter((line) => line.trim() !== ''),
      env: http ? {} : (e.value ?? {}),
      timeout_s: numberOrDefault(timeout, 30),
    });
  };

  return (
    <form
      className="config-form"
      onSubmit={submit}
      noValidate
      aria-label={server ? `Edit MCP server ${server.name}` : 'New MCP server'}
    >
      <div className="form-grid">
        {server ? null : (
          <Field
            label="Name"
            name="name"
            hint="1–32 characters: a-z, 0-9, _ and -. Its tools are named NAME__TOOL."
            error={err('name')}
          >
            {(control) => <input {...control} value={name} onChange={(ev) => setName(ev.target.value)} required />}
          </Field>
        )}
        <Field
          label="Transport"
          name="transport"
          hint="stdio servers are registered from the seed file unless the API allows it."
          error={err('transport')}
        >
          {(control) => (
            <select
              {...control}
              value={transport}
              onChange={(ev) => setTransport(ev.target.value === 'stdio' ? 'stdio' : 'http')}
            >
              <option value="http">http (streamable HTTP)</option>
              <option value="stdio">stdio (a command)</option>
            </select>
          )}
        </Field>
        <Field
          label="Timeout (s)"
          name="timeout_s"
          hint="One request to the server (0.1–3600)."
          error={err('timeout_s')}
        >
          {(control) => (
            <input
              {...control}
              type="number"
              step="any"
              value={timeout}
              onChange={(ev) => setTimeoutS(ev.target.value)}
            />
          )}
        </Field>
      </div>
      {transport === 'http' ? (
        <>
          <Field label="URL" name="url" hint="The endpoint, e.g. https://mcp.example.com/mcp" error={err('url')}>
            {(control) => <input {...control} type="url" value={url} onChange={(ev) => setUrl(ev.target.value)} />}
          </Field>
          <JsonField
            label="Headers (JSON)"
            name="headers"
            shape="object"
            rows={3}
            hint='e.g. {"Authorization": "Bearer ${MCP_TOKEN}"}: credential headers must use ${VAR}.'
            value={headers}
            onChange={setHeaders}
            error={err('headers')}
            localError={jsonErrors.headers}
            onLocalError={onLocalError}
          />
        </>
      ) : (
        <>
          <Field
            label="Command"
            name="command"
            hint="The program to run; python means the worker’s own."
            error={err('command')}
          >
            {(control) => <input {...control} value={command} onChange={(ev) => setCommand(ev.target.value)} />}
          </Field>
          <Field label="Arguments" name="args" hint="One per line." error={err('args')}>
            {(control) => (
              <textarea
                {...control}
                className="mono"
                rows={3}
                value={args}
                onChange={(ev) => setArgs(ev.target.value)}
              />
            )}
          </Field>
          <JsonField
            label="Environment (JSON)"
            name="env"
            shape="object"
            rows={3}
            hint='Extra variables of the process, e.g. {"API_KEY": "${MY_KEY}"}.'
            value={env}
            onChange={setEnv}
            error={err('env')}
            localError={jsonErrors.env}
            onLocalError={onLocalError}
          />
        </>
      )}
      <FormError error={saveError} shown={FIELDS} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving and discovering…' : server ? 'Save and discover' : 'Register and discover'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function discoverySummary(server: McpServer): string | null {
  const d = server.discovery;
  if (!d) return null;
  const parts = (
    [
      ['created', d.created],
      ['updated', d.updated],
      ['unchanged', d.unchanged],
      ['removed', d.removed],
      ['stale', d.stale],
      ['skipped', d.skipped],
    ] as const
  )
    .filter(([, names]) => names.length > 0)
    .map(([word, names]) => `${names.length} ${word}`);
  return `Discovered: ${parts.length > 0 ? parts.join(', ') : 'no tools'}.`;
}

function ServerCard({
  server,
  admin,
  canEdit,
  onEdit,
  onChanged,
  onDeleted,
}: {
  server: McpServer;
  admin: boolean;
  canEdit: boolean;
  onEdit: () => void;
  onChanged: (server: McpServer) => void;
  onDeleted: () => void;
}) {
  const discover = useSubmit();
  const run = async () => {
    const next = await discover.run(() =>
      call(api.POST('/v1/mcp-servers/{name}/discover', { params: { path: { name: server.name } } })),
    );
    if (next) onChanged(next);
  };
  const summary = discoverySummary(server);
  return (
    <>
      <div className="card-header">
        <h2>{server.name}</h2>
        {admin ? (
          <div className="page-actions">
            <button
              type="button"
              onClick={() => void run()}
              disabled={discover.busy}
              aria-label={`Discover the tools of ${server.name}`}
            >
              {discover.busy ? 'Discovering…' : 'Discover'}
            </button>
            {canEdit ? (
              <>
                <button type="button" className="secondary" aria-label={`Edit ${server.name}`} onClick={onEdit}>
                  Edit
                </button>
                <ConfirmButton
                  label={`Delete ${server.name}`}
                  question={`Delete MCP server ${server.name} and its tools?`}
                  confirmLabel="Yes, delete"
                  onConfirm={async () => {
                    await call(api.DELETE('/v1/mcp-servers/{name}', { params: { path: { name: server.name } } }));
                    onDeleted();
                  }}
                />
              </>
            ) : null}
          </div>
        ) : null}
      </div>
      <ErrorMessage error={discover.error} />
      <dl className="props">
        <div>
          <dt>Transport</dt>
          <dd>
            {server.transport === 'http' ? (
              <>
                http: <code>{server.url}</code>
              </>
            ) : (
              <>
                stdio: <code>{[server.command ?? '', ...server.args].join(' ')}</code>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>{server.transport === 'http' ? 'Headers' : 'Environment'}</dt>
          <dd>{Object.keys(server.transport === 'http' ? server.headers : server.env).join(', ') || 'none'}</dd>
        </div>
        <div>
          <dt>Last discovered</dt>
          <dd>{server.discovered_at ? new Date(server.discovered_at).toLocaleString() : 'never'}</dd>
        </div>
      </dl>
      {summary ? <p role="status">{summary}</p> : null}
      {server.discovery_error ? (
        <p className="error-box">
          <strong>Discovery problem:</strong> {server.discovery_error}
        </p>
      ) : null}
      <h3>Tools ({server.tools.length})</h3>
      {server.tools.length === 0 ? (
        <p className="field-hint">No tools discovered yet: check the server is reachable, then Discover.</p>
      ) : (
        <ul className="tool-list">
          {server.tools.map((t) => (
            <li key={t.name}>
              <Link to={`/tools/${encodeURIComponent(t.name)}`}>{t.name}</Link>{' '}
              <span className="muted">({t.tool})</span>
              {t.stale ? <span className="badge badge-warn">stale</span> : null}
              {t.description ? <span className="muted">: {t.description}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** /ui/mcp-servers: MCP servers (admin only, even to read: their headers may hold credentials). */
export function McpServers() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const servers = useApi(
    (signal) => (admin ? call(api.GET('/v1/mcp-servers', { signal })) : Promise.resolve([] as McpServer[])),
    [admin],
  );
  const [editing, setEditing] = useState<string | null>(null);
  const [changed, setChanged] = useState<Record<string, McpServer>>({});
  const save = useSubmit();

  const close = () => {
    setEditing(null);
    save.setError(null);
  };
  const saved = (server: McpServer) => {
    setChanged((old) => ({ ...old, [server.name]: server }));
    close();
    servers.reload();
  };
  const create = async (body: McpServerCreate) => {
    const server = await save.run(() => call(api.POST('/v1/mcp-servers', { body })));
    if (server) saved(server);
  };
  const update = async (name: string, body: McpServerCreate) => {
    const server = await save.run(() =>
      call(api.PUT('/v1/mcp-servers/{name}', { params: { path: { name } }, body: serverIn(body) })),
    );
    if (server) saved(server);
  };

  if (!admin) {
    return (
      <Page title="MCP servers">
        <EmptyState title="MCP servers need an admin session" action={<Link to="/tools">See the tools instead</Link>}>
          <p>
            A server’s headers and environment may hold credentials, so only an admin token can read them. Their tools
            are listed on the Tools page.
          </p>
        </EmptyState>
      </Page>
    );
  }
  const list = (servers.data ?? []).map((s) => changed[s.name] ?? s);
  return (
    <Page
      title="MCP servers"
      actions={
        editing === null ? (
          <button type="button" onClick={() => setEditing('')}>
            New MCP server
          </button>
        ) : null
      }
    >
      {servers.state === 'loading' ? <p>Loading MCP servers…</p> : null}
      {servers.state === 'error' ? <ErrorMessage error={servers.error} /> : null}
      {editing === '' ? (
        <section className="card" aria-labelledby="new-mcp">
          <h2 id="new-mcp">New MCP server</h2>
          <McpServerForm saveError={save.error} busy={save.busy} onSave={(b) => void create(b)} onCancel={close} />
        </section>
      ) : null}
      {servers.state === 'ok' && list.length === 0 && editing === null ? (
        <EmptyState
          title="No MCP servers yet"
          action={
            <button type="button" onClick={() => setEditing('')}>
              Register an MCP server
            </button>
          }
        >
          <p>Register an MCP server: its tools are discovered at once and become tools agents can list.</p>
        </EmptyState>
      ) : null}
      {list.length > 0 ? (
        <ul className="cards">
          {list.map((s) => (
            <li key={s.name} className="card">
              {editing === s.name ? (
                <>
                  <h2>Edit {s.name}</h2>
                  <McpServerForm
                    server={s}
                    saveError={save.error}
                    busy={save.busy}
                    onSave={(b) => void update(s.name, b)}
                    onCancel={close}
                  />
                </>
              ) : (
                <ServerCard
                  server={s}
                  admin={admin}
                  canEdit={editing === null}
                  onEdit={() => setEditing(s.name)}
                  onChanged={(next) => setChanged((old) => ({ ...old, [next.name]: next }))}
                  onDeleted={() => servers.reload()}
                />
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </Page>
  );
}
