/**
 * `GET /v1/stats/agents?window=…`, typed by hand (minimal: the topology needs only the failed
 * runs per agent) until it is in the OpenAPI document.
 */
import { ApiError, REQUESTED_WITH } from './client';

export interface AgentStats {
  agent: string;
  runs: { failed?: number; [status: string]: number | undefined };
}

export interface AgentStatsAnswer {
  window: string;
  since: string;
  agents: AgentStats[];
}

export async function fetchAgentStats(window: string, signal?: AbortSignal): Promise<AgentStatsAnswer> {
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
  return body as AgentStatsAnswer;
}
