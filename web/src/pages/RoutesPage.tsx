import { useState } from 'react';
import { Link } from 'react-router';

import { api, call } from '../api/client';
import type { Agent, Route, RouteCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigForm, type FormProps } from '../components/ConfigForm';
import { CardHeader, CardList, ConfigListPage, EditDeleteButtons } from '../components/ConfigList';
import { EmptyState } from '../components/EmptyState';
import { Field, TextField } from '../components/Field';
import { TryIt } from '../components/TryIt';
import { errorsUnder, useEditing } from '../lib/form';

const FIELDS = ['key', 'agent', 'description'] as const;

function RouteForm({
  route,
  agents,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  route?: Route;
  agents: readonly Agent[];
} & FormProps<RouteCreate>) {
  const [key, setKey] = useState(route?.key ?? '');
  const [agent, setAgent] = useState(route?.agent ?? agents[0]?.name ?? '');
  const [description, setDescription] = useState(route?.description ?? '');
  const err = (field: string) => errorsUnder(saveError, field);
  return (
    <ConfigForm
      label={route ? `Edit route ${route.key}` : 'New route'}
      onSubmit={() => onSave({ key: key.trim(), agent, description })}
      saveError={saveError}
      shown={FIELDS}
      busy={busy}
      submitLabel={route ? 'Save changes' : 'Create route'}
      onCancel={onCancel}
    >
      <div className="form-grid">
        {route ? null : (
          <TextField
            label="Key"
            name="key"
            hint="Used in POST /v1/routes/KEY/runs: a-z, 0-9, _ . -"
            error={err('key')}
            value={key}
            onChange={setKey}
            required
          />
        )}
        <Field label="Agent" name="agent" hint="The route always runs its current version." error={err('agent')}>
          {(control) => (
            <select {...control} value={agent} onChange={(e) => setAgent(e.target.value)}>
              {agents.length === 0 ? <option value="">No agents: create one first</option> : null}
              {agents.some((a) => a.name === agent) || agent === '' ? null : (
                <option value={agent}>{agent} (not found)</option>
              )}
              {agents.map((a) => (
                <option key={a.name} value={a.name}>
                  {a.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <TextField
        label="Description"
        name="description"
        error={err('description')}
        value={description}
        onChange={setDescription}
      />
    </ConfigForm>
  );
}

/** /ui/routes: stable keys that start runs of an agent; each can be tried from here. */
export function RoutesPage() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const loaded = useApi(
    (signal) => Promise.all([call(api.GET('/v1/routes', { signal })), call(api.GET('/v1/agents', { signal }))]),
    [],
  );
  const { editing, setEditing, submit, formProps } = useEditing<string | null>(null);
  const [trying, setTrying] = useState<string | null>(null);
  const [routes, agents] = loaded.data ?? [[], []];

  const create = (body: RouteCreate) => submit(() => call(api.POST('/v1/routes', { body })), loaded.reload);
  const update = (key: string, body: RouteCreate) =>
    submit(
      () =>
        call(
          api.PUT('/v1/routes/{key}', {
            params: { path: { key } },
            body: { agent: body.agent, description: body.description ?? '' },
          }),
        ),
      loaded.reload,
    );

  return (
    <ConfigListPage
      title="Routes"
      newLabel="New route"
      newId="new-route"
      canCreate={admin && loaded.state === 'ok'}
      onNew={() => setEditing('')}
      loaded={loaded}
      loadingText="Loading routes…"
      creating={editing === ''}
      formOpen={editing !== null}
      newForm={<RouteForm agents={agents} {...formProps} onSave={(b) => void create(b)} />}
      isEmpty={routes.length === 0}
      empty={
        <EmptyState
          title="No routes yet"
          action={
            agents.length === 0 ? (
              <Link to="/agents">Create an agent first</Link>
            ) : admin ? (
              <button type="button" onClick={() => setEditing('')}>
                Create a route
              </button>
            ) : null
          }
        >
          <p>
            A route is a stable key that starts runs of an agent (<code>POST /v1/routes/KEY/runs</code>): callers keep
            the key while you change the agent behind it.
          </p>
        </EmptyState>
      }
    >
      <CardList
        items={routes}
        keyOf={(r) => r.key}
        editing={editing}
        editTitle={(r) => `Edit route ${r.key}`}
        editForm={(r) => <RouteForm route={r} agents={agents} {...formProps} onSave={(b) => void update(r.key, b)} />}
      >
        {(r) => {
          const agent = agents.find((a) => a.name === r.agent);
          return (
            <>
              <CardHeader title={r.key}>
                <div className="page-actions">
                  {allows(who, 'run') ? (
                    <button
                      type="button"
                      className="secondary"
                      aria-expanded={trying === r.key}
                      onClick={() => setTrying(trying === r.key ? null : r.key)}
                    >
                      {trying === r.key ? `Close try it` : `Try ${r.key}`}
                    </button>
                  ) : null}
                  {admin && editing === null ? (
                    <EditDeleteButtons
                      name={r.key}
                      question={`Delete route ${r.key}?`}
                      onEdit={() => setEditing(r.key)}
                      onDelete={async () => {
                        await call(api.DELETE('/v1/routes/{key}', { params: { path: { key: r.key } } }));
                        loaded.reload();
                      }}
                    />
                  ) : null}
                </div>
              </CardHeader>
              <p>
                Runs <Link to={`/agents/${encodeURIComponent(r.agent)}`}>{r.agent}</Link>
                {agent ? ` (v${agent.current_version})` : ' (agent not found)'}
                {r.description ? `: ${r.description}` : ''}
              </p>
              {trying === r.key ? (
                <TryIt target={{ kind: 'route', key: r.key }} variables={agent?.prompt_variables ?? []} />
              ) : null}
            </>
          );
        }}
      </CardList>
    </ConfigListPage>
  );
}
