import { useId, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';

import { api, call } from '../api/client';
import type { RunStarted } from '../api/types';
import { useSubmit } from '../lib/form';
import { Field } from './Field';
import { FormError } from './FormError';

export type TryTarget = { kind: 'agent'; agent: string } | { kind: 'route'; key: string };

/** A variable's text as the value sent: as it is, or parsed as JSON when asked. */
function variableValue(text: string, asJson: boolean): unknown {
  if (!asJson) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * "Try it": the input, the agent's template variables (`prompt_variables`, sent as `variables`)
 * and, for an agent, an optional thread. Starts a run (`POST /v1/runs`,
 * `POST /v1/threads/{id}/runs` or `POST /v1/routes/{key}/runs`) and opens its page.
 */
export function TryIt({ target, variables }: { target: TryTarget; variables: readonly string[] }) {
  const navigate = useNavigate();
  const [input, setInput] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [asJson, setAsJson] = useState(false);
  const [thread, setThread] = useState('');
  const [inputError, setInputError] = useState<string | undefined>();
  const start = useSubmit();
  const titleId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (input.trim() === '') {
      setInputError('Write the message to send to the agent.');
      return;
    }
    setInputError(undefined);
    const vars: Record<string, unknown> = {};
    for (const name of variables) {
      const text = values[name] ?? '';
      if (text !== '') vars[name] = variableValue(text, asJson);
    }
    const started = await start.run<RunStarted>(() => {
      if (target.kind === 'route') {
        return call(
          api.POST('/v1/routes/{key}/runs', {
            params: { path: { key: target.key } },
            body: { input, variables: vars, tokens: true },
          }),
        );
      }
      // tokens: the run's page follows it from its start, so its first model call streams too.
      const body = { agent: target.agent, input, variables: vars, tokens: true };
      const threadId = thread.trim();
      if (threadId !== '') {
        return call(api.POST('/v1/threads/{thread_id}/runs', { params: { path: { thread_id: threadId } }, body }));
      }
      return call(api.POST('/v1/runs', { body }));
    });
    if (started) void navigate(`/runs/${encodeURIComponent(started.run_id)}`);
  };

  // What no control shows (`variables` as a whole, an undeclared `variables.x`) goes to the form's error.
  const shown = ['input', 'thread_id', ...variables.map((v) => `variables.${v}`)];
  return (
    <section className="card try-it" aria-labelledby={titleId}>
      <h2 id={titleId}>Try it</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Input" name="input" hint="The user’s message." error={inputError ?? start.error?.field('input')}>
          {(control) => <textarea {...control} rows={3} value={input} onChange={(e) => setInput(e.target.value)} />}
        </Field>
        {variables.length > 0 ? (
          <fieldset>
            <legend>Template variables</legend>
            <p className="field-hint">Leave one empty to leave it out (the prompt may give it a default).</p>
            {variables.map((name) => (
              <Field key={name} label={name} name={`variables.${name}`} error={start.error?.field(`variables.${name}`)}>
                {(control) => (
                  <input
                    {...control}
                    value={values[name] ?? ''}
                    onChange={(e) => setValues((old) => ({ ...old, [name]: e.target.value }))}
                  />
                )}
              </Field>
            ))}
            <label className="check">
              <input type="checkbox" checked={asJson} onChange={(e) => setAsJson(e.target.checked)} /> Read the values
              as JSON (numbers, lists, objects); text that is not JSON is sent as text
            </label>
          </fieldset>
        ) : null}
        {target.kind === 'agent' ? (
          <Field
            label="Thread (optional)"
            name="thread_id"
            hint="A thread id to continue a conversation; empty starts a run of its own."
            error={start.error?.field('thread_id')}
          >
            {(control) => <input {...control} value={thread} onChange={(e) => setThread(e.target.value)} />}
          </Field>
        ) : null}
        <FormError error={start.error} shown={shown} />
        <button type="submit" disabled={start.busy}>
          {start.busy ? 'Starting…' : 'Start a run'}
        </button>
      </form>
    </section>
  );
}
