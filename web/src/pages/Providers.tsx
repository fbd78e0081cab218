import { useState } from 'react';

import { api, call } from '../api/client';
import type { Provider, ProviderCreate, ProviderIn, ProviderKind } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { ConfigForm, type FormProps } from '../components/ConfigForm';
import { CardHeader, CardList, ConfigListPage, EditDeleteButtons } from '../components/ConfigList';
import { EmptyState } from '../components/EmptyState';
import { Field, TextField } from '../components/Field';
import { JsonField } from '../components/JsonField';
import { Props } from '../components/Props';
import { numberOrDefault, numberText, useEditing, useFieldErrors, withoutName } from '../lib/form';
import { jsonText, parseJsonField } from '../lib/json';

const KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'openai_compatible', 'scripted'];
const FIELDS = ['name', 'kind', 'base_url', 'api_key_env', 'default_model', 'timeout_s', 'headers', 'prices'] as const;

function ProviderForm({
  provider,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  provider?: Provider;
} & FormProps<ProviderCreate>) {
  const [name, setName] = useState(provider?.name ?? '');
  const [kind, setKind] = useState<ProviderKind>(provider?.kind ?? 'openai');
  const [baseUrl, setBaseUrl] = useState(provider?.base_url ?? '');
  const [keyEnv, setKeyEnv] = useState(provider?.api_key_env ?? '');
  const [defaultModel, setDefaultModel] = useState(provider?.default_model ?? '');
  const [timeout, setTimeoutS] = useState(numberText(provider?.timeout_s ?? 60));
  const [headers, setHeaders] = useState(jsonText(provider?.headers));
  const [prices, setPrices] = useState(jsonText(provider?.prices));
  const { err, json, parsed } = useFieldErrors(saveError);

  const submit = () => {
    const r = {
      headers: parseJsonField<Record<string, string>>(headers, 'object'),
      prices: parseJsonField<NonNullable<ProviderCreate['prices']>>(prices, 'array'),
    };
    if (!parsed(r)) return;
    onSave({
      name: name.trim(),
      kind,
      base_url: baseUrl.trim() === '' ? null : baseUrl.trim(),
      api_key_env: keyEnv.trim() === '' ? null : keyEnv.trim(),
      default_model: defaultModel.trim() === '' ? null : defaultModel.trim(),
      timeout_s: numberOrDefault(timeout, 60),
      headers: r.headers.value ?? {},
      prices: r.prices.value ?? [],
    });
  };

  return (
    <ConfigForm
      label={provider ? `Edit provider ${provider.name}` : 'New provider'}
      onSubmit={submit}
      saveError={saveError}
      shown={FIELDS}
      busy={busy}
      submitLabel={provider ? 'Save changes' : 'Create provider'}
      onCancel={onCancel}
    >
      {provider ? null : (
        <TextField
          label="Name"
          name="name"
          hint="a-z, 0-9, _ . -"
          error={err('name')}
          value={name}
          onChange={setName}
          required
        />
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
        <TextField
          label="Base URL"
          name="base_url"
          hint={
            kind === 'openai_compatible' ? 'Required for this kind: http:// or https://.' : 'Empty: the kind’s own.'
          }
          error={err('base_url')}
          type="url"
          value={baseUrl}
          onChange={setBaseUrl}
        />
        <TextField
          label="API key environment variable"
          name="api_key_env"
          hint="The NAME of the variable holding the key, e.g. OPENAI_API_KEY: never the key itself."
          error={err('api_key_env')}
          value={keyEnv}
          autoComplete="off"
          spellCheck={false}
          onChange={setKeyEnv}
        />
        <TextField
          label="Default model"
          name="default_model"
          hint="For agents that name no model."
          error={err('default_model')}
          value={defaultModel}
          onChange={setDefaultModel}
        />
        <TextField
          label="Timeout (s)"
          name="timeout_s"
          hint="One HTTP request, above 0 and at most 600."
          error={err('timeout_s')}
          type="number"
          step="any"
          value={timeout}
          onChange={setTimeoutS}
        />
      </div>
      <JsonField
        label="Headers (JSON)"
        shape="object"
        rows={3}
        hint='Extra request headers, e.g. {"X-Team": "${TEAM_ID}"}: ${VAR} names an env var. Not the API key.'
        value={headers}
        onChange={setHeaders}
        {...json('headers')}
      />
      <JsonField
        label="Prices (JSON)"
        shape="array"
        rows={4}
        hint='[{"model": "gpt-4o", "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}]: USD per million tokens.'
        value={prices}
        onChange={setPrices}
        {...json('prices')}
      />
    </ConfigForm>
  );
}

function priceList(p: Provider): string {
  if (p.prices.length === 0) return 'none';
  return p.prices
    .map((x) => `${x.model}: $${x.input_usd_per_mtok} in / $${x.output_usd_per_mtok} out per Mtok`)
    .join('; ');
}

/** /ui/providers: model APIs, each with the name of the env var holding its key. */
export function Providers() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const providers = useApi((signal) => call(api.GET('/v1/providers', { signal })), []);
  // null: no form; '': the new-provider form; a name: that provider's edit form.
  const { editing, setEditing, submit, formProps } = useEditing<string | null>(null);
  const list = providers.data ?? [];

  const create = (body: ProviderCreate) => submit(() => call(api.POST('/v1/providers', { body })), providers.reload);
  const update = (name: string, body: ProviderCreate) =>
    submit(
      () => call(api.PUT('/v1/providers/{name}', { params: { path: { name } }, body: withoutName<ProviderIn>(body) })),
      providers.reload,
    );

  return (
    <ConfigListPage
      title="Providers"
      newLabel="New provider"
      newId="new-provider"
      canCreate={admin}
      onNew={() => setEditing('')}
      loaded={providers}
      loadingText="Loading providers…"
      intro={
        <p className="field-hint">
          Keys never leave the worker’s environment: a provider names the environment variable that holds its key.
        </p>
      }
      creating={editing === ''}
      formOpen={editing !== null}
      newForm={<ProviderForm {...formProps} onSave={(b) => void create(b)} />}
      isEmpty={list.length === 0}
      empty={
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
      }
    >
      <CardList
        items={list}
        keyOf={(p) => p.name}
        editing={editing}
        editTitle={(p) => `Edit ${p.name}`}
        editForm={(p) => <ProviderForm provider={p} {...formProps} onSave={(b) => void update(p.name, b)} />}
      >
        {(p) => (
          <>
            <CardHeader title={p.name}>
              {admin && editing === null ? (
                <div className="page-actions">
                  <EditDeleteButtons
                    name={p.name}
                    question={`Delete provider ${p.name}?`}
                    onEdit={() => setEditing(p.name)}
                    onDelete={async () => {
                      await call(api.DELETE('/v1/providers/{name}', { params: { path: { name: p.name } } }));
                      providers.reload();
                    }}
                  />
                </div>
              ) : null}
            </CardHeader>
            <Props
              rows={[
                ['Kind', p.kind],
                ['Key from', p.api_key_env ? <code>${p.api_key_env}</code> : 'no key'],
                ['Base URL', p.base_url ?? 'the kind’s own'],
                ['Default model', p.default_model ?? 'none'],
                ['Timeout', `${p.timeout_s} s`],
                ['Headers', Object.keys(p.headers).length === 0 ? 'none' : Object.keys(p.headers).join(', ')],
                ['Prices', priceList(p)],
              ]}
            />
          </>
        )}
      </CardList>
    </ConfigListPage>
  );
}
