/**
 * GET /v1/stats/agents, typed by hand: the route is not in the OpenAPI document yet. When it is,
 * replace these types with `components['schemas'][…]` and the cast below with
 * `api.GET('/v1/stats/agents', …)`.
 */
import { api, call } from './client';

export type StatsWindow = '1h' | '24h' | '7d';

export interface AgentStats {
  agent: string;
  /** Runs by status (`completed`, `failed`, …, `unfinished`). */
  runs: Record<string, number>;
  /** null when there is no finished run to measure. */
  duration_ms: { p50: number | null; p95: number | null };
  total_tokens: number;
  cost_usd: number;
}

export interface AgentStatsPage {
  window: StatsWindow;
  /** ISO 8601: the start of the window. */
  since: string;
  agents: AgentStats[];
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The client without its path types, for a route the generated types do not know yet. */
const untyped = api as unknown as {
  GET: (path: string, init: { params: { query: Record<string, string> }; signal?: AbortSignal }) => Promise<Answer>;
};

/** Per agent, runs by status, p50/p95 duration, tokens and cost over `window`. */
export async function agentStats(window: StatsWindow, signal?: AbortSignal): Promise<AgentStatsPage> {
  const init = signal ? { params: { query: { window } }, signal } : { params: { query: { window } } };
  return (await call(untyped.GET('/v1/stats/agents', init))) as AgentStatsPage;
}
