/**
 * The typed API client and its error type. Every page calls the API through `api` (typed from
 * the API's OpenAPI document: `npm run gen:api` writes ./schema.d.ts) and `call()`, which
 * returns the answer's body or throws an `ApiError`.
 *
 *   const agents = await call(api.GET('/v1/agents'));
 *   await call(api.POST('/v1/agents', { body }));   // a 422 throws ApiError with fieldErrors
 */
import createClient, { type Middleware } from 'openapi-fetch';

import type { paths } from './schema';

/** Sent on every request: the API requires it on cookie-authenticated writes (a CSRF guard). */
export const REQUESTED_WITH = { name: 'X-Requested-With', value: 'orch-web' } as const;

/** Where a field error points: `body.input`, `body.tools[1]`, `query.limit`, `path.name`. */
const LOCATIONS = new Set(['body', 'query', 'path', 'header', 'cookie']);

/**
 * The form field an API field path names: `body.input` → `input`, `body.tools[1]` →
 * `tools[1]`, `body.tools.1.name` → `tools[1].name`, `query.limit` → `limit`. A path that is only
 * the location (`body`: the whole body is wrong) maps to '' (the form's own error).
 */
export function formField(path: string): string {
  const parts = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((part) => part !== '');
  if (parts.length > 0 && LOCATIONS.has(parts[0] ?? '')) parts.shift();
  return parts.reduce((name, part) => {
    if (/^\d+$/.test(part)) return `${name}[${part}]`;
    return name === '' ? part : `${name}.${part}`;
  }, '');
}

interface FieldErrorBody {
  field: string;
  message: string;
}

function isFieldErrorList(value: unknown): value is FieldErrorBody[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as FieldErrorBody).field === 'string' &&
        typeof (item as FieldErrorBody).message === 'string',
    )
  );
}

const STATUS_WORDS: Record<number, string> = {
  401: 'You are not signed in, or your session has ended.',
  403: 'Your token’s scope does not allow this.',
  404: 'Not found.',
  409: 'This conflicts with the current state: reload and try again.',
  413: 'The request is too large.',
  429: 'Too many requests: wait a moment and try again.',
  502: 'The API could not reach a service it needs.',
  503: 'The API is not ready: a service it needs is unavailable.',
};

/** An answer that is not 2xx, or no answer at all (`status` 0, `error` 'network_error'). */
export class ApiError extends Error {
  readonly status: number;
  /** The API's error code, e.g. `not_found`, `validation_error`, `unauthorized`. */
  readonly error: string;
  /** Messages by form field (see `formField`); '' holds the ones about no single field. */
  readonly fieldErrors: Record<string, string>;

  constructor(status: number, error: string, message: string, fieldErrors: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.error = error;
    this.fieldErrors = fieldErrors;
  }

  /** From an error answer's status and parsed body (`{"error", "detail"}`, or anything else). */
  static fromBody(status: number, body: unknown, statusText = ''): ApiError {
    const fallback = STATUS_WORDS[status] ?? `The API answered ${status}${statusText ? ` ${statusText}` : ''}.`;
    if (typeof body !== 'object' || body === null) {
      return new ApiError(status, `http_${status}`, typeof body === 'string' && body ? body : fallback);
    }
    const { error, detail } = body as { error?: unknown; detail?: unknown };
    const code = typeof error === 'string' ? error : `http_${status}`;
    if (typeof detail === 'string') return new ApiError(status, code, detail || fallback);
    if (isFieldErrorList(detail)) {
      const fieldErrors: Record<string, string> = {};
      for (const item of detail) {
        const name = formField(item.field);
        fieldErrors[name] = fieldErrors[name] ? `${fieldErrors[name]} ${item.message}` : item.message;
      }
      const count = detail.length;
      const message = fieldErrors[''] ?? (count === 1 ? 'One field needs fixing.' : `${count} fields need fixing.`);
      return new ApiError(status, code, message, fieldErrors);
    }
    return new ApiError(status, code, fallback);
  }

  /** The message for one form field, if the API named it. */
  field(name: string): string | undefined {
    return this.fieldErrors[name];
  }
}

/** Any thrown value in words, for an error message on the page. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}

type UnauthorizedHandler = (response: Response) => void;
let onUnauthorized: UnauthorizedHandler | null = null;

/**
 * What to do when any call answers 401 (the session ended): main.tsx sends the page to
 * /ui/sign-in?next=…. Calls to /v1/session are exempt (a wrong token is the form's error).
 */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler;
}

const SESSION_PATH = '/v1/session';

export const orchMiddleware: Middleware = {
  onRequest({ request }) {
    request.headers.set(REQUESTED_WITH.name, REQUESTED_WITH.value);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && new URL(request.url, window.location.origin).pathname !== SESSION_PATH) {
      onUnauthorized?.(response);
    }
    return response;
  },
};

function makeClient() {
  // `fetch` is looked up on each call (not bound once), so tests can replace globalThis.fetch.
  const client = createClient<paths>({
    baseUrl: '',
    credentials: 'same-origin',
    fetch: (request: Request) => globalThis.fetch(request),
  });
  client.use(orchMiddleware);
  return client;
}

/** The API, typed from its OpenAPI document. Same origin: the API serves this app under /ui. */
export const api = makeClient();

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The body of a 2xx answer; anything else throws an `ApiError` (a network failure too, as
 * status 0). `await call(api.GET('/v1/runs/{run_id}', { params: { path: { run_id } } }))`.
 */
export async function call<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, 'network_error', 'Cannot reach the API: check that it is running, then try again.');
  }
  const { response } = answer;
  if (!response.ok) throw ApiError.fromBody(response.status, answer.error, response.statusText);
  return answer.data as T;
}
