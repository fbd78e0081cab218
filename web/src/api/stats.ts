/** GET /v1/stats/agents: per agent, runs by status, p50/p95 duration, tokens and cost. */
import { api, call } from './client';
import type { paths } from './schema';

export type StatsWindow = '1h' | '24h' | '7d';

export type AgentStatsPage = paths['/v1/stats/agents']['get']['responses'][200]['content']['application/json'];

export type AgentStats = AgentStatsPage['agents'][number];

/** The figures of the runs started in `window`. */
export async function agentStats(window: StatsWindow, signal?: AbortSignal): Promise<AgentStatsPage> {
  return call(api.GET('/v1/stats/agents', { params: { query: { window } }, ...(signal ? { signal } : {}) }));
}

/** The topology's name for the same call. */
export const fetchAgentStats = agentStats;
