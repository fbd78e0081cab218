/** Short names for the configuration's schemas (generated from the OpenAPI document). */
import type { components } from './schema';

type S = components['schemas'];

export type Agent = S['AgentRead'];
export type AgentCreate = S['AgentCreate'];
export type AgentIn = S['AgentIn'];
export type Tool = S['ToolRead'];
export type ToolCreate = S['ToolCreate'];
export type ToolIn = S['ToolIn'];
export type ToolKind = S['ToolCreate']['kind'];
export type Provider = S['ProviderRead'];
export type ProviderCreate = S['ProviderCreate'];
export type ProviderIn = S['ProviderIn'];
export type ProviderKind = S['ProviderCreate']['kind'];
export type Route = S['RouteRead'];
export type RouteCreate = S['RouteCreate'];
export type RouteIn = S['RouteIn'];
export type McpServer = S['McpServerRead'];
export type McpServerCreate = S['McpServerCreate'];
export type McpServerIn = S['McpServerIn'];
export type RunRequest = S['RunRequest'];
export type RouteRunRequest = S['RouteRunRequest'];
export type RunStarted = S['RunStarted'];
