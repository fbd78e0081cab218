import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';

import { api, call, type ApiError } from '../api/client';
import type { Agent, Route, RouteCreate } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfirmButton } from '../components/ConfirmButton';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { FormError } from '../components/FormError';
import { Page } from '../components/Page';
import { TryIt } from '../components/TryIt';
import { errorsUnder, useSubmit } from '../lib/form';

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
  saveError: ApiError | null;
  busy: boolean;
  onSave: (body: RouteCreate) => void;
  onCancel: () => void;
}) {
  const [key, setKey] = useState(route?.key ?? '');
  const [agent, setAgent] = useState(route?.agent ?? agents[0]?.name ?? '');
  const [description, setDescription] = useState(route?.description ?? '');
  const err = (field: string) => errorsUnder(saveError, field);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave({ key: key.trim(), agent, description });
  };
  return (
    <form
      className="config-form"
      onSubmit={submit}
      noValidate
      aria-label={route ? `Edit route ${route.key}` : 'New route'}
    >
      <div className="form-grid">
        {route ? null : (
          <Field label="Key" name="key" hint="Used in POST /v1/routes/KEY/runs: a-z, 0-9, _ . -" error={err('key')}>
            {(control) => <input {...control} value={key} onChange={(e) => setKey(e.target.value)} required />}
          </Field>
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
      <Field label="Description" name="description" error={err('description')}>
        {(control) => <input {...control} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <FormError error={saveError} shown={FIELDS} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : route ? 'Save changes' : 'Create route'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
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
  const [editing, setEditing] = useState<string | null>(null);
  const [trying, setTrying] = useState<string | null>(null);
  const save = useSubmit();
  const [routes, agents] = loaded.data ?? [[], []];

  const close = () => {
    setEditing(null);
    save.setError(null);
  };
  const create = async (body: RouteCreate) => {
    if (await save.run(() => call(api.POST('/v1/routes', { body })))) {
      close();
      loaded.reload();
    }
  };
  const update = async (key: string, body: RouteCreate) => {
    const next = await save.run(() =>
      call(
        api.PUT('/v1/routes/{key}', {
          params: { path: { key } },
          body: { agent: body.agent, description: body.description ?? '' },
        }),
      ),
    );
    if (next) {
      close();
      loaded.reload();
    }
  };

  return (
    <Page
      title="Routes"
      actions={
        admin && editing === null && loaded.state === 'ok' ? (
          <button type="button" onClick={() => setEditing('')}>
            New route
          </button>
        ) : null
      }
    >
      {loaded.state === 'loading' ? <p>Loading routes…</p> : null}
      {loaded.state === 'error' ? <ErrorMessage error={loaded.error} /> : null}
      {editing === '' ? (
        <section className="card" aria-labelledby="new-route">
          <h2 id="new-route">New route</h2>
          <RouteForm
            agents={agents}
            saveError={save.error}
            busy={save.busy}
            onSave={(b) => void create(b)}
            onCancel={close}
          />
        </section>
      ) : null}
      {loaded.state === 'ok' && routes.length === 0 && editing === null ? (
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
      ) : null}
      {routes.length > 0 ? (
        <ul className="cards">
          {routes.map((r) => {
            const agent = agents.find((a) => a.name === r.agent);
            return (
              <li key={r.key} className="card">
                {editing === r.key ? (
                  <>
                    <h2>Edit route {r.key}</h2>
                    <RouteForm
                      route={r}
                      agents={agents}
                      saveError={save.error}
                      busy={save.busy}
                      onSave={(b) => void update(r.key, b)}
                      onCancel={close}
                    />
                  </>
                ) : (
                  <>
                    <div className="card-header">
                      <h2>{r.key}</h2>
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
                          <>
                            <button
                              type="button"
                              className="secondary"
                              aria-label={`Edit ${r.key}`}
                              onClick={() => setEditing(r.key)}
                            >
                              Edit
                            </button>
                            <ConfirmButton
                              label={`Delete ${r.key}`}
                              question={`Delete route ${r.key}?`}
                              confirmLabel="Yes, delete"
                              onConfirm={async () => {
                                await call(api.DELETE('/v1/routes/{key}', { params: { path: { key: r.key } } }));
                                loaded.reload();
                              }}
                            />
                          </>
                        ) : null}
                      </div>
                    </div>
                    <p>
                      Runs <Link to={`/agents/${encodeURIComponent(r.agent)}`}>{r.agent}</Link>
                      {agent ? ` (v${agent.current_version})` : ' (agent not found)'}
                      {r.description ? `: ${r.description}` : ''}
                    </p>
                    {trying === r.key ? (
                      <TryIt target={{ kind: 'route', key: r.key }} variables={agent?.prompt_variables ?? []} />
                    ) : null}
                  </>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </Page>
  );
}
