import { useState } from 'react';

import type { Agent, AgentCreate, Provider, Tool } from '../../api/types';
import { ConfigForm, type FormProps } from '../../components/ConfigForm';
import { Field, TextField } from '../../components/Field';
import { JsonField } from '../../components/JsonField';
import { nameList, numberOrDefault, numberOrNull, numberText, useFieldErrors } from '../../lib/form';
import { jsonText, parseJsonField } from '../../lib/json';
import { VERSION_FIELDS } from './VersionDiff';

type Fallbacks = NonNullable<AgentCreate['fallbacks']>;
type Script = NonNullable<AgentCreate['script']>;
type OutputSchema = AgentCreate['output_schema'];

/** The controls of the form, by the API's field name (so a 422 lands next to its control). */
export const AGENT_FIELDS = ['name', ...VERSION_FIELDS] as const;

interface State {
  name: string;
  description: string;
  provider: string;
  model: string;
  system_prompt: string;
  prompt_variables: string;
  tools: string[];
  fallbacks: string;
  max_steps: string;
  temperature: string;
  max_total_tokens: string;
  max_cost_usd: string;
  max_duration_s: string;
  model_timeout_s: string;
  model_max_attempts: string;
  approval_timeout_s: string;
  on_tool_error: 'continue' | 'fail';
  output_schema: string;
  max_output_repairs: string;
  script: string;
}

function initial(agent: Agent | undefined, providers: readonly Provider[]): State {
  return {
    name: agent?.name ?? '',
    description: agent?.description ?? '',
    provider: agent?.provider ?? providers[0]?.name ?? '',
    model: agent?.model ?? '',
    system_prompt: agent?.system_prompt ?? '',
    prompt_variables: (agent?.prompt_variables ?? []).join(', '),
    tools: agent?.tools ?? [],
    fallbacks: jsonText(agent?.fallbacks),
    max_steps: numberText(agent?.max_steps ?? 10),
    temperature: numberText(agent?.temperature),
    max_total_tokens: numberText(agent?.max_total_tokens),
    max_cost_usd: numberText(agent?.max_cost_usd),
    max_duration_s: numberText(agent?.max_duration_s),
    model_timeout_s: numberText(agent?.model_timeout_s ?? 60),
    model_max_attempts: numberText(agent?.model_max_attempts ?? 10),
    approval_timeout_s: numberText(agent?.approval_timeout_s ?? 3600),
    on_tool_error: agent?.on_tool_error ?? 'continue',
    output_schema: jsonText(agent?.output_schema),
    max_output_repairs: numberText(agent?.max_output_repairs ?? 2),
    script: jsonText(agent?.script),
  };
}

/**
 * Create or edit an agent. `agent` given: editing (no name; the API writes a new version if
 * anything changed). `onSave` gets the generated request body and throws the API's error.
 */
export function AgentForm({
  agent,
  providers,
  tools,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  agent?: Agent;
  providers: readonly Provider[];
  tools: readonly Tool[];
} & FormProps<AgentCreate>) {
  const [s, setS] = useState<State>(() => initial(agent, providers));
  const set = <K extends keyof State>(key: K, value: State[K]) => setS((old) => ({ ...old, [key]: value }));
  const { err, json, parsed } = useFieldErrors(saveError);

  const submit = () => {
    const r = {
      fallbacks: parseJsonField<Fallbacks>(s.fallbacks, 'array'),
      output_schema: parseJsonField<NonNullable<OutputSchema>>(s.output_schema, 'object'),
      script: parseJsonField<Script>(s.script, 'array'),
    };
    if (!parsed(r)) return;
    const body: AgentCreate = {
      name: s.name.trim(),
      description: s.description,
      provider: s.provider,
      model: s.model.trim(),
      system_prompt: s.system_prompt,
      prompt_variables: nameList(s.prompt_variables),
      tools: s.tools,
      fallbacks: r.fallbacks.value ?? [],
      max_steps: numberOrDefault(s.max_steps, 10),
      temperature: numberOrNull(s.temperature),
      max_total_tokens: numberOrNull(s.max_total_tokens),
      max_cost_usd: numberOrNull(s.max_cost_usd),
      max_duration_s: numberOrNull(s.max_duration_s),
      model_timeout_s: numberOrDefault(s.model_timeout_s, 60),
      model_max_attempts: numberOrDefault(s.model_max_attempts, 10),
      approval_timeout_s: numberOrDefault(s.approval_timeout_s, 3600),
      on_tool_error: s.on_tool_error,
      output_schema: r.output_schema.value ?? null,
      max_output_repairs: numberOrDefault(s.max_output_repairs, 2),
      script: r.script.value ?? [],
    };
    onSave(body);
  };

  const numberField = (key: keyof State & (typeof AGENT_FIELDS)[number], label: string, hint: string, step = 'any') => (
    <TextField
      label={label}
      name={key}
      hint={hint}
      error={err(key)}
      type="number"
      inputMode="decimal"
      step={step}
      value={s[key] as string}
      onChange={(text) => set(key, text)}
    />
  );

  return (
    <ConfigForm
      label={agent ? `Edit agent ${agent.name}` : 'New agent'}
      onSubmit={submit}
      saveError={saveError}
      shown={AGENT_FIELDS}
      busy={busy}
      submitLabel={agent ? 'Save changes' : 'Create agent'}
      onCancel={onCancel}
    >
      {agent ? null : (
        <TextField
          label="Name"
          name="name"
          hint="1–64 characters: a-z, 0-9, _ . -, starting with a letter or digit."
          error={err('name')}
          value={s.name}
          onChange={(v) => set('name', v)}
          required
        />
      )}
      <TextField
        label="Description"
        name="description"
        error={err('description')}
        value={s.description}
        onChange={(v) => set('description', v)}
      />
      <div className="form-grid">
        <Field label="Provider" name="provider" error={err('provider')}>
          {(control) => (
            <select {...control} value={s.provider} onChange={(e) => set('provider', e.target.value)}>
              {providers.some((p) => p.name === s.provider) || s.provider === '' ? null : (
                <option value={s.provider}>{s.provider} (not found)</option>
              )}
              {providers.length === 0 ? <option value="">No providers: create one first</option> : null}
              {providers.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name} ({p.kind})
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Model"
          name="model"
          hint="Empty: the provider’s default model."
          error={err('model')}
          value={s.model}
          onChange={(v) => set('model', v)}
        />
      </div>
      <Field
        label="System prompt"
        name="system_prompt"
        hint="A Jinja template: {{ input }}, {{ agent }}, {{ date }} and the variables below."
        error={err('system_prompt')}
      >
        {(control) => (
          <textarea
            {...control}
            className="mono"
            rows={8}
            value={s.system_prompt}
            onChange={(e) => set('system_prompt', e.target.value)}
          />
        )}
      </Field>
      <TextField
        label="Prompt variables"
        name="prompt_variables"
        hint="Names the caller gives in a run’s variables, separated by commas."
        error={err('prompt_variables')}
        value={s.prompt_variables}
        onChange={(v) => set('prompt_variables', v)}
      />
      <fieldset aria-describedby={err('tools') ? 'agent-tools-error' : undefined}>
        <legend>Tools</legend>
        {tools.length === 0 ? <p className="field-hint">No tools yet: create one on the Tools page.</p> : null}
        <div className="check-list">
          {[...tools.map((t) => t.name), ...s.tools.filter((n) => !tools.some((t) => t.name === n))].map((toolName) => (
            <label key={toolName} className="check">
              <input
                type="checkbox"
                name="tools"
                value={toolName}
                checked={s.tools.includes(toolName)}
                onChange={(e) =>
                  set('tools', e.target.checked ? [...s.tools, toolName] : s.tools.filter((n) => n !== toolName))
                }
              />{' '}
              {toolName}
            </label>
          ))}
        </div>
        {err('tools') ? (
          <p id="agent-tools-error" className="field-error" role="alert">
            {err('tools')}
          </p>
        ) : null}
      </fieldset>
      <JsonField
        label="Fallbacks (JSON)"
        shape="array"
        rows={3}
        hint='Models to fail over to, in order: [{"provider": "openai", "model": "gpt-4o-mini"}]. Empty: none.'
        value={s.fallbacks}
        onChange={(v) => set('fallbacks', v)}
        {...json('fallbacks')}
      />
      <div className="form-grid">
        {numberField('max_steps', 'Max steps', 'Model turns per run (1–1000).', '1')}
        {numberField('temperature', 'Temperature', 'Empty: the provider’s default (0–2).')}
        {numberField('max_total_tokens', 'Token budget', 'Tokens per run; empty: no budget.', '1')}
        {numberField('max_cost_usd', 'Cost budget (USD)', 'Per run; empty: no budget.')}
        {numberField('max_duration_s', 'Time budget (s)', 'Wall clock per run; empty: no budget.')}
        {numberField('model_timeout_s', 'Model call timeout (s)', 'One attempt (1–3600).')}
        {numberField('model_max_attempts', 'Model call attempts', 'Per model before failing over (1–100).', '1')}
        {numberField('approval_timeout_s', 'Approval timeout (s)', 'How long an approval waits (1–604800).')}
        <Field
          label="When a tool fails"
          name="on_tool_error"
          hint="After its retries: tell the model and go on, or fail the run."
          error={err('on_tool_error')}
        >
          {(control) => (
            <select
              {...control}
              value={s.on_tool_error}
              onChange={(e) => set('on_tool_error', e.target.value === 'fail' ? 'fail' : 'continue')}
            >
              <option value="continue">Continue (the model sees the error)</option>
              <option value="fail">Fail the run</option>
            </select>
          )}
        </Field>
        {numberField(
          'max_output_repairs',
          'Output repairs',
          'Times an answer breaking the output schema is sent back (0–10).',
          '1',
        )}
      </div>
      <JsonField
        label="Output schema (JSON)"
        shape="object"
        hint="A JSON Schema (2020-12) the final answer must follow. Empty: free text."
        value={s.output_schema}
        onChange={(v) => set('output_schema', v)}
        {...json('output_schema')}
      />
      <JsonField
        label="Script (JSON)"
        shape="array"
        hint='Turns of the offline scripted model: [{"text": "…", "tool_calls": [{"name": "…", "arguments": {}}]}].'
        value={s.script}
        onChange={(v) => set('script', v)}
        {...json('script')}
      />
    </ConfigForm>
  );
}
