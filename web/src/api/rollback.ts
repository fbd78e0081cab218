/**
 * `POST /v1/agents/{name}/rollback` (admin): body `{"version": N}`, answer 201 with the agent as
 * `GET /v1/agents/{name}` gives it, its new current version a copy of N.
 */
import { api, call } from './client';
import type { components } from './schema';

export type Agent = components['schemas']['AgentRead'];

/** Make version `version` of agent `name` current again, as a new version; throws ApiError. */
export async function rollbackAgent(name: string, version: number): Promise<Agent> {
  return call(api.POST('/v1/agents/{name}/rollback', { params: { path: { name } }, body: { version } }));
}
