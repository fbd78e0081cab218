import { useState } from 'react';

import type { Tool, ToolCreate, ToolKind } from '../../api/types';
import { ConfigForm, type FormProps } from '../../components/ConfigForm';
import { Field, TextField } from '../../components/Field';
import { JsonField } from '../../components/JsonField';
import { numberOrDefault, numberText, useFieldErrors } from '../../lib/form';
import { jsonText, parseJsonField } from '../../lib/json';

export const TOOL_KINDS: readonly { kind: ToolKind; label: string }[] = [
  { kind: 'calculator', label: 'calculator: arithmetic' },
  { kind: 'read_file', label: 'read_file: read a workspace file' },
  { kind: 'write_file', label: 'write_file: write a workspace file' },
  { kind: 'list_files', label: 'list_files: list workspace files' },
  { kind: 'ask_user', label: 'ask_user: ask a person' },
  { kind: 'http', label: 'http: call a fixed HTTP API' },
  { kind: 'http_request', label: 'http_request: any URL the model gives (allow-listed)' },
  { kind: 'web_search', label: 'web_search' },
  { kind: 'doc_search', label: 'doc_search: search documents' },
  { kind: 'github', label: 'github' },
  { kind: 'mcp', label: 'mcp: a tool of an MCP server' },
  { kind: 'agent', label: 'agent: call another agent (sub-agent)' },
];

export const TOOL_FIELDS = [
  'name',
  'kind',
  'description',
  'parameters',
  'config',
  'timeout_s',
  'retry_attempts',
  'requires_approval',
  'max_result_chars',
  'idempotent',
  'on_unknown_outcome',
] as const;

const CONFIG_HINTS: Partial<Record<ToolKind, string>> = {
  agent: '{"agent": "librarian"}: the agent this tool runs.',
  mcp: '{"server": "…", "tool": "…"}: written by discovery on the MCP servers page.',
  http: '{"url": "https://…", "method": "GET"}: see docs/tools.md for every key.',
};

/** Create or edit a tool (`tool` given: editing, the name fixed). */
export function ToolForm({
  tool,
  saveError,
  busy,
  onSave,
  onCancel,
}: {
  tool?: Tool;
} & FormProps<ToolCreate>) {
  const [name, setName] = useState(tool?.name ?? '');
  const [kind, setKind] = useState<ToolKind>(tool?.kind ?? 'calculator');
  const [description, setDescription] = useState(tool?.description ?? '');
  const [parameters, setParameters] = useState(jsonText(tool?.parameters));
  const [config, setConfig] = useState(jsonText(tool?.config));
  const [timeout, setTimeoutS] = useState(numberText(tool?.timeout_s ?? 30));
  const [retries, setRetries] = useState(numberText(tool?.retry_attempts ?? 3));
  const [approval, setApproval] = useState(tool?.requires_approval ?? false);
  const [maxChars, setMaxChars] = useState(numberText(tool?.max_result_chars ?? 20000));
  const [idempotent, setIdempotent] = useState(tool === undefined ? '' : String(tool.idempotent));
  const [onUnknown, setOnUnknown] = useState<'report' | 'ask'>(tool?.on_unknown_outcome ?? 'report');
  const { err, json, parsed } = useFieldErrors(saveError);

  const submit = () => {
    const r = {
      parameters: parseJsonField<NonNullable<ToolCreate['parameters']>>(parameters, 'object'),
      config: parseJsonField<NonNullable<ToolCreate['config']>>(config, 'object'),
    };
    if (!parsed(r)) return;
    onSave({
      name: name.trim(),
      kind,
      description,
      parameters: r.parameters.value ?? null,
      config: r.config.value ?? {},
      timeout_s: numberOrDefault(timeout, 30),
      retry_attempts: numberOrDefault(retries, 3),
      requires_approval: approval,
      max_result_chars: numberOrDefault(maxChars, 20000),
      idempotent: idempotent === '' ? null : idempotent === 'true',
      on_unknown_outcome: onUnknown,
    });
  };

  return (
    <ConfigForm
      label={tool ? `Edit tool ${tool.name}` : 'New tool'}
      onSubmit={submit}
      saveError={saveError}
      shown={TOOL_FIELDS}
      busy={busy}
      submitLabel={tool ? 'Save changes' : 'Create tool'}
      onCancel={onCancel}
    >
      {tool ? null : (
        <TextField
          label="Name"
          name="name"
          hint="a-z, 0-9, _ and -; no dots."
          error={err('name')}
          value={name}
          onChange={setName}
          required
        />
      )}
      <Field label="Kind" name="kind" error={err('kind')}>
        {(control) => (
          <select {...control} value={kind} onChange={(e) => setKind(e.target.value as ToolKind)}>
            {TOOL_KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label="Description"
        name="description"
        hint="What the model reads to decide when to call it."
        error={err('description')}
      >
        {(control) => (
          <textarea {...control} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        )}
      </Field>
      <JsonField
        label="Parameters schema (JSON)"
        shape="object"
        hint='A JSON Schema of an object, e.g. {"type": "object", "properties": {…}}. Empty: the kind’s own.'
        value={parameters}
        onChange={setParameters}
        {...json('parameters')}
      />
      <JsonField
        label="Config (JSON)"
        shape="object"
        hint={CONFIG_HINTS[kind] ?? 'Kind-specific settings, a JSON object. Empty: none.'}
        value={config}
        onChange={setConfig}
        {...json('config')}
        rows={4}
      />
      <div className="form-grid">
        <TextField
          label="Timeout (s)"
          name="timeout_s"
          hint="0.001–86400."
          error={err('timeout_s')}
          type="number"
          step="any"
          value={timeout}
          onChange={setTimeoutS}
        />
        <TextField
          label="Retry attempts"
          name="retry_attempts"
          hint="1–100."
          error={err('retry_attempts')}
          type="number"
          step="1"
          value={retries}
          onChange={setRetries}
        />
        <TextField
          label="Result size (characters)"
          name="max_result_chars"
          hint="Longer results are cut (100–1000000)."
          error={err('max_result_chars')}
          type="number"
          step="1"
          value={maxChars}
          onChange={setMaxChars}
        />
        <Field
          label="Idempotent"
          name="idempotent"
          hint="May a call run again after a worker stopped during it?"
          error={err('idempotent')}
        >
          {(control) => (
            <select {...control} value={idempotent} onChange={(e) => setIdempotent(e.target.value)}>
              <option value="">The kind’s default</option>
              <option value="true">Yes</option>
              <option value="false">No</option>
            </select>
          )}
        </Field>
        <Field
          label="Unknown outcome"
          name="on_unknown_outcome"
          hint="For a tool that is not idempotent."
          error={err('on_unknown_outcome')}
        >
          {(control) => (
            <select
              {...control}
              value={onUnknown}
              onChange={(e) => setOnUnknown(e.target.value === 'ask' ? 'ask' : 'report')}
            >
              <option value="report">Report it to the model</option>
              <option value="ask">Ask a person before calling again</option>
            </select>
          )}
        </Field>
      </div>
      <Field label="Requires approval" name="requires_approval" error={err('requires_approval')}>
        {(control) => (
          <span className="check">
            <input {...control} type="checkbox" checked={approval} onChange={(e) => setApproval(e.target.checked)} /> A
            person approves each call on the run’s page
          </span>
        )}
      </Field>
    </ConfigForm>
  );
}
