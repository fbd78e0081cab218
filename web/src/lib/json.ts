/** Reading the JSON-shaped fields of a form (schemas, headers, prices, scripts) before sending. */

export type JsonShape = 'object' | 'array' | 'any';

export type Parsed<T = unknown> = { ok: true; value: T | undefined } | { ok: false; message: string };

/**
 * Parse a JSON textarea. Empty text is `undefined` (the API's default). `shape` says what the
 * value must be; a mistake is a message in words, with the position when the parser gives one.
 */
export function parseJsonField<T = unknown>(text: string, shape: JsonShape = 'any'): Parsed<T> {
  if (text.trim() === '') return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `This is not valid JSON: ${detail}` };
  }
  if (shape === 'object' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return { ok: false, message: 'This must be a JSON object: {"key": …}.' };
  }
  if (shape === 'array' && !Array.isArray(value)) {
    return { ok: false, message: 'This must be a JSON list: [ … ].' };
  }
  return { ok: true, value: value as T };
}

/** A value as the text of a JSON textarea: '' for nothing, else indented JSON. */
export function jsonText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value) && value.length === 0) return '';
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  return JSON.stringify(value, null, 2);
}
