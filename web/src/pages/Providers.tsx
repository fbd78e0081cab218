import { useState, type FormEvent } from 'react';

import { api, call, type ApiError } from '../api/client';
import type { Provider, ProviderCreate, ProviderIn, ProviderKind } from '../api/types';
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

const KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'openai_compatible', 'scripted'];
const FIELDS = ['name', 'kind', 'base_url', 'api_key_env', 'default_model', 'timeout_s', 'headers', 'prices'] as const;

function providerIn(body: ProviderCreate): ProviderIn {
  const copy: Partial<ProviderCreate> = { ...body };
  delete copy.name;
  return copy as ProviderIn;
}

function ProviderForm({
  provider,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  provider?: Provider;
  saveError: ApiError | null;
  busy: boolean;
  onSave: (body: ProviderCreate) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(provider?.name ?? '');
  const [kind, setKind] = useState<ProviderKind>(provider?.kind ?? 'openai');
  const [baseUrl, setBaseUrl] = useState(provider?.base_url ?? '');
  const [keyEnv, setKeyEnv] = useState(provider?.api_key_env ?? '');
  const [defaultModel, setDefaultModel] = useState(provider?.default_model ?? '');
  const [timeout, setTimeoutS] = useState(numberText(provider?.timeout_s ?? 60));
  const [headers, setHeaders] = useState(jsonText(provider?.headers));
  const [prices, setPrices] = useState(jsonText(provider?.prices));
  const [jsonErrors, setJsonErrors] = useState<Record<string, string | undefined>>({});
  const onLocalError = (field: string, message: string | undefined) =>
    setJsonErrors((old) => ({ ...old, [field]: message }));
  const err = (field: string) => errorsUnder(saveError, field);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const h = parseJsonField<Record<string, string>>(headers, 'object');
    const p = parseJsonField<NonNullable<ProviderCreate['prices']>>(prices, 'array');
    setJsonErrors({ headers: h.ok ? undefined : h.message, prices: p.ok ? undefined : p.message });
    if (!h.ok || !p.ok) return;
    onSave({
      name: name.trim(),
      kind,
      base_url: baseUrl.trim() === '' ? null : baseUrl.trim(),
      api_key_env: keyEnv.trim() === '' ? null : keyEnv.trim(),
      default_model: defaultModel.trim() === '' ? null : defaultModel.trim(),
      timeout_s: numberOrDefault(timeout, 60),
      headers: h.value ?? {},
      prices: p.value ?? [],
    });
  };

  return (
    <form
      className="config-form"
      onSubmit={submit}
      noValidate
      aria-label={provider ? `Edit provider ${provider.name}` : 'New provider'}
    >
      {provider ? null : (
        <Field label="Name" name="name" hint="a-z, 0-9, _ . -" error={err('name')}>
          {(control) => <input {...control} value={name} onChange={(e) => setName(e.target.value)} required />}
        </Field>
      )}
      <div className="form-grid">
        <Field label="Kind" name="kind" error={err('kind')}>
          {(control) => (
            <select {...control} value={kind} onChange={(e) => setKind(e.target.value as ProviderKind)}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Base URL"
          name="base_url"
          hint={
            kind === 'openai_compatible' ? 'Required for this kind: http:// or https://.' : 'Empty: the kind’s own.'
          }
          error={err('base_url')}
        >
          {(control) => <input {...control} type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />}
        </Field>
        <Field
          label="API key environment variable"
          name="api_key_env"
          hint="The NAME of the variable holding the key, e.g. OPENAI_API_KEY: never the key itself."
          error={err('api_key_env')}
        >
          {(control) => (
            <input
              {...control}
              value={keyEnv}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setKeyEnv(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="Default model"
          name="default_model"
          hint="For agents that name no model."
          error={err('default_model')}
        >
          {(control) => <input {...control} value={defaultModel} onChange={(e) => setDefaultModel(e.target.value)} />}
        </Field>
        <Field
          label="Timeout (s)"
          name="timeout_s"
          hint="One HTTP request, above 0 and at most 600."
          error={err('timeout_s')}
        >
          {(control) => (
            <input
              {...control}
              type="number"
              step="any"
              value={timeout}
              onChange={(e) => setTimeoutS(e.target.value)}
            />
          )}
        </Field>
      </div>
      <JsonField
        label="Headers (JSON)"
        name="headers"
        shape="object"
        rows={3}
        hint='Extra request headers, e.g. {"X-Team": "${TEAM_ID}"}: ${VAR} names an env var. Not the API key.'
        value={headers}
        onChange={setHeaders}
        error={err('headers')}
        localError={jsonErrors.headers}
        onLocalError={onLocalError}
      />
      <JsonField
        label="Prices (JSON)"
        name="prices"
        shape="array"
        rows={4}
        hint='[{"model": "gpt-4o", "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}]: USD per million tokens.'
        value={prices}
        onChange={setPrices}
        error={err('prices')}
        localError={jsonErrors.prices}
        onLocalError={onLocalError}
      />
      <FormError error={saveError} shown={FIELDS} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : provider ? 'Save changes' : 'Create provider'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** /ui/providers: model APIs, each with the name of the env var holding its key. */
export function Providers() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const providers = useApi((signal) => call(api.GET('/v1/providers', { signal })), []);
  // null: no form; '': the new-provider form; a name: that provider's edit form.
  const [editing, setEditing] = useState<string | null>(null);
  const save = useSubmit();

  const close = () => {
    setEditing(null);
    save.setError(null);
  };
  const create = async (body: ProviderCreate) => {
    if (await save.run(() => call(api.POST('/v1/providers', { body })))) {
      close();
      providers.reload();
    }
  };
  const update = async (name: string, body: ProviderCreate) => {
    const next = await save.run(() =>
      call(api.PUT('/v1/providers/{name}', { params: { path: { name } }, body: providerIn(body) })),
    );
    if (next) {
      close();
      providers.reload();
    }
  };

  return (
    <Page
      title="Providers"
      actions={
        admin && editing === null ? (
          <button type="button" onClick={() => setEditing('')}>
            New provider
          </button>
        ) : null
      }
    >
      <p className="field-hint">
        Keys never leave the worker’s environment: a provider names the environment variable that holds its key.
      </p>
      {providers.state === 'loading' ? <p>Loading providers…</p> : null}
      {providers.state === 'error' ? <ErrorMessage error={providers.error} /> : null}
      {editing === '' ? (
        <section className="card" aria-labelledby="new-provider">
          <h2 id="new-provider">New provider</h2>
          <ProviderForm saveError={save.error} busy={save.busy} onSave={(b) => void create(b)} onCancel={close} />
        </section>
      ) : null}
      {providers.state === 'ok' && providers.data.length === 0 && editing === null ? (
        <EmptyState
          title="No providers yet"
          action={
            admin ? (
              <button type="button" onClick={() => setEditing('')}>
                Create a provider
              </button>
            ) : null
          }
        >
          <p>
            A provider is a model API and the name of the environment variable holding its key (never the key). Add one
            before creating agents; the <code>scripted</code> kind needs no key.
          </p>
        </EmptyState>
      ) : null}
      {providers.state === 'ok' && providers.data.length > 0 ? (
        <ul className="cards">
          {providers.data.map((p) => (
            <li key={p.name} className="card">
              {editing === p.name ? (
                <>
                  <h2>Edit {p.name}</h2>
                  <ProviderForm
                    provider={p}
                    saveError={save.error}
                    busy={save.busy}
                    onSave={(b) => void update(p.name, b)}
                    onCancel={close}
                  />
                </>
              ) : (
                <>
                  <div className="card-header">
                    <h2>{p.name}</h2>
                    {admin && editing === null ? (
                      <div className="page-actions">
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Edit ${p.name}`}
                          onClick={() => setEditing(p.name)}
                        >
                          Edit
                        </button>
                        <ConfirmButton
                          label={`Delete ${p.name}`}
                          question={`Delete provider ${p.name}?`}
                          confirmLabel="Yes, delete"
                          onConfirm={async () => {
                            await call(api.DELETE('/v1/providers/{name}', { params: { path: { name: p.name } } }));
                            providers.reload();
                          }}
                        />
                      </div>
                    ) : null}
                  </div>
                  <dl className="props">
                    <div>
                      <dt>Kind</dt>
                      <dd>{p.kind}</dd>
                    </div>
                    <div>
                      <dt>Key from</dt>
                      <dd>{p.api_key_env ? <code>${p.api_key_env}</code> : 'no key'}</dd>
                    </div>
                    <div>
                      <dt>Base URL</dt>
                      <dd>{p.base_url ?? 'the kind’s own'}</dd>
                    </div>
                    <div>
                      <dt>Default model</dt>
                      <dd>{p.default_model ?? 'none'}</dd>
                    </div>
                    <div>
                      <dt>Timeout</dt>
                      <dd>{p.timeout_s} s</dd>
                    </div>
                    <div>
                      <dt>Headers</dt>
                      <dd>{Object.keys(p.headers).length === 0 ? 'none' : Object.keys(p.headers).join(', ')}</dd>
                    </div>
                    <div>
                      <dt>Prices</dt>
                      <dd>
                        {p.prices.length === 0
                          ? 'none'
                          : p.prices
                              .map(
                                (x) =>
                                  `${x.model}: $${x.input_usd_per_mtok} in / $${x.output_usd_per_mtok} out per Mtok`,
                              )
                              .join('; ')}
                      </dd>
                    </div>
                  </dl>
                </>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </Page>
  );
}
