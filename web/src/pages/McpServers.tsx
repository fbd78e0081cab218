import { useState } from 'react';
import { Link } from 'react-router';

import { api, call } from '../api/client';
import type { McpServer, McpServerCreate, McpServerIn } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigForm, type FormProps } from '../components/ConfigForm';
import { CardHeader, CardList, ConfigListPage, EditDeleteButtons } from '../components/ConfigList';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field, TextField } from '../components/Field';
import { JsonField } from '../components/JsonField';
import { Page } from '../components/Page';
import { Props } from '../components/Props';
import { numberOrDefault, numberText, useEditing, useFieldErrors, useSubmit, withoutName } from '../lib/form';
import { jsonText, parseJsonField } from '../lib/json';

type Transport = McpServerCreate['transport'];
const FIELDS = ['name', 'transport', 'url', 'headers', 'command', 'args', 'env', 'timeout_s'] as const;

function McpServerForm({
  server,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  server?: McpServer;
} & FormProps<McpServerCreate>) {
  const [name, setName] = useState(server?.name ?? '');
  const [transport, setTransport] = useState<Transport>(server?.transport ?? 'http');
  const [url, setUrl] = useState(server?.url ?? '');
  const [headers, setHeaders] = useState(jsonText(server?.headers));
  const [command, setCommand] = useState(server?.command ?? '');
  const [args, setArgs] = useState((server?.args ?? []).join('\n'));
  const [env, setEnv] = useState(jsonText(server?.env));
  const [timeout, setTimeoutS] = useState(numberText(server?.timeout_s ?? 30));
  const { err, json, parsed } = useFieldErrors(saveError);

  const submit = () => {
    const r = {
      headers: parseJsonField<Record<string, string>>(headers, 'object'),
      env: parseJsonField<Record<string, string>>(env, 'object'),
    };
    if (!parsed(r)) return;
    const http = transport === 'http';
    onSave({
      name: name.trim(),
      transport,
      url: http && url.trim() !== '' ? url.trim() : null,
      headers: http ? (r.headers.value ?? {}) : {},
      command: !http && command.trim() !== '' ? command.trim() : null,
      args: http ? [] : args.split('\n').filter((line) => line.trim() !== ''),
      env: http ? {} : (r.env.value ?? {}),
      timeout_s: numberOrDefault(timeout, 30),
    });
  };

  return (
    <ConfigForm
      label={server ? `Edit MCP server ${server.name}` : 'New MCP server'}
      onSubmit={submit}
      saveError={saveError}
      shown={FIELDS}
      busy={busy}
      submitLabel={server ? 'Save and discover' : 'Register and discover'}
      busyLabel="Saving and discovering…"
      onCancel={onCancel}
    >
      <div className="form-grid">
        {server ? null : (
          <TextField
            label="Name"
            name="name"
            hint="1–32 characters: a-z, 0-9, _ and -. Its tools are named NAME__TOOL."
            error={err('name')}
            value={name}
            onChange={setName}
            required
          />
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
        <TextField
          label="Timeout (s)"
          name="timeout_s"
          hint="One request to the server (0.1–3600)."
          error={err('timeout_s')}
          type="number"
          step="any"
          value={timeout}
          onChange={setTimeoutS}
        />
      </div>
      {transport === 'http' ? (
        <>
          <TextField
            label="URL"
            name="url"
            hint="The endpoint, e.g. https://mcp.example.com/mcp"
            error={err('url')}
            type="url"
            value={url}
            onChange={setUrl}
          />
          <JsonField
            label="Headers (JSON)"
            shape="object"
            rows={3}
            hint='e.g. {"Authorization": "Bearer ${MCP_TOKEN}"}: credential headers must use ${VAR}.'
            value={headers}
            onChange={setHeaders}
            {...json('headers')}
          />
        </>
      ) : (
        <>
          <TextField
            label="Command"
            name="command"
            hint="The program to run; python means the worker’s own."
            error={err('command')}
            value={command}
            onChange={setCommand}
          />
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
            shape="object"
            rows={3}
            hint='Extra variables of the process, e.g. {"API_KEY": "${MY_KEY}"}.'
            value={env}
            onChange={setEnv}
            {...json('env')}
          />
        </>
      )}
    </ConfigForm>
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
      <CardHeader title={server.name}>
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
              <EditDeleteButtons
                name={server.name}
                question={`Delete MCP server ${server.name} and its tools?`}
                onEdit={onEdit}
                onDelete={async () => {
                  await call(api.DELETE('/v1/mcp-servers/{name}', { params: { path: { name: server.name } } }));
                  onDeleted();
                }}
              />
            ) : null}
          </div>
        ) : null}
      </CardHeader>
      <ErrorMessage error={discover.error} />
      <Props
        rows={[
          [
            'Transport',
            server.transport === 'http' ? (
              <>
                http: <code>{server.url}</code>
              </>
            ) : (
              <>
                stdio: <code>{[server.command ?? '', ...server.args].join(' ')}</code>
              </>
            ),
          ],
          [
            server.transport === 'http' ? 'Headers' : 'Environment',
            Object.keys(server.transport === 'http' ? server.headers : server.env).join(', ') || 'none',
          ],
          ['Last discovered', server.discovered_at ? new Date(server.discovered_at).toLocaleString() : 'never'],
        ]}
      />
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
  const { editing, setEditing, submit, formProps } = useEditing<string | null>(null);
  const [changed, setChanged] = useState<Record<string, McpServer>>({});

  const saved = (server: McpServer) => {
    setChanged((old) => ({ ...old, [server.name]: server }));
    servers.reload();
  };
  const create = (body: McpServerCreate) => submit(() => call(api.POST('/v1/mcp-servers', { body })), saved);
  const update = (name: string, body: McpServerCreate) =>
    submit(
      () =>
        call(api.PUT('/v1/mcp-servers/{name}', { params: { path: { name } }, body: withoutName<McpServerIn>(body) })),
      saved,
    );

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
    <ConfigListPage
      title="MCP servers"
      newLabel="New MCP server"
      newId="new-mcp"
      canCreate
      onNew={() => setEditing('')}
      loaded={servers}
      loadingText="Loading MCP servers…"
      creating={editing === ''}
      formOpen={editing !== null}
      newForm={<McpServerForm {...formProps} onSave={(b) => void create(b)} />}
      isEmpty={list.length === 0}
      empty={
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
      }
    >
      <CardList
        items={list}
        keyOf={(s) => s.name}
        editing={editing}
        editTitle={(s) => `Edit ${s.name}`}
        editForm={(s) => <McpServerForm server={s} {...formProps} onSave={(b) => void update(s.name, b)} />}
      >
        {(s) => (
          <ServerCard
            server={s}
            admin={admin}
            canEdit={editing === null}
            onEdit={() => setEditing(s.name)}
            onChanged={(next) => setChanged((old) => ({ ...old, [next.name]: next }))}
            onDeleted={() => servers.reload()}
          />
        )}
      </CardList>
    </ConfigListPage>
  );
}
