/**
 * The session calls: `POST /v1/session` trades a token for the HttpOnly, SameSite=Strict session
 * cookie, `DELETE /v1/session` ends it (plain fetches: the sign-in page must see a 401 itself,
 * not have the client's guard send it back to sign-in).
 */
import { api, ApiError, call, REQUESTED_WITH } from './client';
import type { components } from './schema';

export type Scope = 'read' | 'run' | 'admin';

/** POST /v1/session's answer; the session itself is an HttpOnly, SameSite=Strict cookie. */
export interface SessionCreated {
  token_id: string;
  scope: Scope;
  /** ISO 8601 date-time. */
  expires_at: string;
}

export type WhoAmI = components['schemas']['WhoAmI'];

const SESSION_URL = '/v1/session';

async function send(method: 'POST' | 'DELETE', body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { [REQUESTED_WITH.name]: REQUESTED_WITH.value };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    return await globalThis.fetch(SESSION_URL, {
      method,
      credentials: 'same-origin',
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Cannot reach the API: check that it is running, then try again.');
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return ApiError.fromBody(response.status, body, response.statusText);
}

/** Trade an API token for a session cookie. A wrong token throws ApiError 401. */
export async function signIn(token: string): Promise<SessionCreated> {
  const response = await send('POST', { token });
  if (!response.ok) {
    const err = await errorOf(response);
    if (response.status === 401) {
      throw new ApiError(401, err.error, 'That token was not accepted: it is unknown, revoked or mistyped.');
    }
    throw err;
  }
  return (await response.json()) as SessionCreated;
}

/** End the session (the API clears the cookie). */
export async function signOut(): Promise<void> {
  const response = await send('DELETE');
  // 401: already signed out, which is what was asked.
  if (!response.ok && response.status !== 401) throw await errorOf(response);
}

/** Who this session is; a 401 throws (and the client's handler sends the page to sign-in). */
export function whoami(): Promise<WhoAmI> {
  return call(api.GET('/v1/whoami'));
}
