/** Small helpers the configuration forms share. */
import { useCallback, useState } from 'react';

import { ApiError } from '../api/client';
import type { Parsed } from './json';

/**
 * The API's messages for a form field and what lies under it: `fallbacks` collects
 * `fallbacks` itself, `fallbacks[0].model`, `fallbacks.x` (each prefixed with its sub-path).
 */
export function errorsUnder(error: ApiError | null | undefined, name: string): string | undefined {
  if (!error) return undefined;
  const messages: string[] = [];
  for (const [field, message] of Object.entries(error.fieldErrors)) {
    if (field === name) messages.push(message);
    else if (field.startsWith(`${name}[`) || field.startsWith(`${name}.`)) messages.push(`${field}: ${message}`);
  }
  return messages.length > 0 ? messages.join(' ') : undefined;
}

/** Field errors that name none of `shown` (nor a field under one): listed with the form's error. */
export function otherFieldErrors(error: ApiError | null | undefined, shown: readonly string[]): string[] {
  if (!error) return [];
  return Object.entries(error.fieldErrors)
    .filter(
      ([field]) =>
        field !== '' &&
        !shown.some((name) => field === name || field.startsWith(`${name}[`) || field.startsWith(`${name}.`)),
    )
    .map(([field, message]) => `${field}: ${message}`);
}

/** A number input's text: '' is `null` (unset), else the number (NaN stays, the API names it). */
export function numberOrNull(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

/** A number input's text, `fallback` (the API's default) when empty. */
export function numberOrDefault(text: string, fallback: number): number {
  return text.trim() === '' ? fallback : Number(text);
}

export function numberText(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** Comma- or line-separated names as a list (empty items dropped). */
export function nameList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * One submit at a time, its error kept as an ApiError (`error.field(…)` for the fields):
 *   const save = useSubmit();  …  save.run(() => call(api.POST(…)))
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err
          : new ApiError(0, 'client_error', err instanceof Error ? err.message : String(err)),
      );
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/** A configuration object's PUT body: its create body without the name (the path names it). */
export function withoutName<In>(body: { name: string }): In {
  const copy: Partial<{ name: string }> = { ...body };
  delete copy.name;
  return copy as In;
}

type Ok<P> = Extract<P, { ok: true }>;

/**
 * The errors a configuration form shows next to its controls: the API's (`err('url')`) and the
 * parse errors of its JSON fields, checked before sending:
 *   const { err, json, parsed } = useFieldErrors(saveError);
 *   const r = { headers: parseJsonField(headers, 'object') };  if (!parsed(r)) return;
 *   <JsonField label="Headers (JSON)" {...json('headers')} … />
 */
export function useFieldErrors(saveError: ApiError | null) {
  const [jsonErrors, setJsonErrors] = useState<Record<string, string | undefined>>({});
  const onLocalError = (name: string, message: string | undefined) =>
    setJsonErrors((old) => ({ ...old, [name]: message }));
  const err = (name: string) => errorsUnder(saveError, name);
  /** The props of the JsonField named `name` that carry its errors. */
  const json = (name: string) => ({ name, error: err(name), localError: jsonErrors[name], onLocalError });
  /** Shows each JSON field's parse error (or none); true when every one parsed. */
  const parsed = <R extends Record<string, Parsed>>(results: R): results is { [K in keyof R]: Ok<R[K]> } => {
    setJsonErrors(Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.ok ? undefined : r.message])));
    return Object.values(results).every((r) => r.ok);
  };
  return { err, json, parsed };
}

/**
 * Which form of a page is open (`closed`: none) and its submit: `submit(action, then)` closes the
 * form when the action succeeded and hands `then` the answer; its error stays for the form.
 * `formProps` are the open form's `saveError`, `busy` and `onCancel` (closes it).
 */
export function useEditing<K>(closed: K) {
  const [editing, setEditing] = useState<K>(closed);
  const save = useSubmit();
  const close = () => {
    setEditing(closed);
    save.setError(null);
  };
  const submit = async <T>(action: () => Promise<T>, then?: (saved: T) => void) => {
    const saved = await save.run(action);
    if (saved) {
      close();
      then?.(saved);
    }
  };
  const formProps = { saveError: save.error, busy: save.busy, onCancel: close };
  return { editing, setEditing, save, close, submit, formProps };
}
