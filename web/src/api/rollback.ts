/**
 * `POST /v1/agents/{name}/rollback` (admin), typed by hand until it is in the OpenAPI document:
 * body `{"version": N}`, answer 201 with the agent as `GET /v1/agents/{name}` gives it (its new
 * current version a copy of N). Then: `call(api.POST('/v1/agents/{name}/rollback', …))`.
 */
import { ApiError, REQUESTED_WITH } from './client';
import type { components } from './schema';

export type Agent = components['schemas']['AgentRead'];

export function rollbackUrl(name: string): string {
  return `/v1/agents/${encodeURIComponent(name)}/rollback`;
}

/** Make version `version` of agent `name` current again, as a new version; throws ApiError. */
export async function rollbackAgent(name: string, version: number): Promise<Agent> {
  let response: Response;
  try {
    response = await globalThis.fetch(rollbackUrl(name), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', [REQUESTED_WITH.name]: REQUESTED_WITH.value },
      body: JSON.stringify({ version }),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Cannot reach the API: check that it is running, then try again.');
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  if (!response.ok) {
    const err = ApiError.fromBody(response.status, body, response.statusText);
    // The framework's own 404/405 (no such route), not the API's "no such agent or version".
    if (response.status === 405 || (response.status === 404 && err.message === 'Not Found')) {
      throw new ApiError(response.status, err.error, 'This API cannot roll an agent back yet: update the API.');
    }
    throw err;
  }
  return body as Agent;
}
