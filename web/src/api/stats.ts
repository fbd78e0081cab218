/**
 * `GET /v1/stats/agents?window=…`, typed by hand and kept minimal (the topology reads only the
 * failed runs per agent) until the route is in the OpenAPI document. The overview's own module
 * of the same name types the whole answer: at a merge, keep it and alias `fetchAgentStats`.
 */
import { ApiError, REQUESTED_WITH } from './client';

export interface AgentStats {
  agent: string;
  /** Runs by status: `failed`, `completed`, … */
  runs: Record<string, number>;
}

export async function fetchAgentStats(
  window: string,
  signal?: AbortSignal,
): Promise<{ window: string; since: string; agents: AgentStats[] }> {
  let response: Response;
  try {
    response = await globalThis.fetch(`/v1/stats/agents?window=${encodeURIComponent(window)}`, {
      credentials: 'same-origin',
      headers: { [REQUESTED_WITH.name]: REQUESTED_WITH.value },
      signal: signal ?? null,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network_error', 'Cannot reach the API: check that it is running, then try again.');
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!response.ok) throw ApiError.fromBody(response.status, body, response.statusText);
  return body as { window: string; since: string; agents: AgentStats[] };
}
