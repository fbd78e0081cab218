/** Configuration answers for page tests: a provider, tools, agents (two versions), a route, an MCP server. */
import type { Agent, McpServer, Provider, Route, Tool } from '../api/types';
import { json, type Seen } from './fetch';

const AT = '2026-12-01T10:00:00Z';

export const provider: Provider = {
  name: 'openai',
  kind: 'openai',
  base_url: null,
  api_key_env: 'OPENAI_API_KEY',
  default_model: 'gpt-4o',
  timeout_s: 60,
  headers: {},
  prices: [],
  created_at: AT,
  updated_at: AT,
};

export const backup: Provider = { ...provider, name: 'backup', kind: 'scripted', api_key_env: null };

function tool(name: string, kind: Tool['kind'], config: Record<string, unknown> = {}): Tool {
  return {
    name,
    kind,
    description: `${name} tool`,
    parameters: { type: 'object' },
    config,
    timeout_s: 30,
    retry_attempts: 3,
    requires_approval: false,
    max_result_chars: 20000,
    idempotent: true,
    on_unknown_outcome: 'report',
    created_at: AT,
    updated_at: AT,
  };
}

export const calculator = tool('calculator', 'calculator');
export const askLibrarian = tool('ask_librarian', 'agent', { agent: 'librarian' });
export const docsSearch = tool('docs__search', 'mcp', { server: 'docs', tool: 'search' });

export function agent(name: string, version: number, over: Partial<Agent> = {}): Agent {
  return {
    name,
    description: '',
    version,
    current_version: version,
    provider: 'openai',
    model: 'gpt-4o',
    system_prompt: 'You are helpful.',
    tools: [],
    max_steps: 10,
    temperature: null,
    script: [],
    fallbacks: [],
    max_total_tokens: null,
    max_cost_usd: null,
    max_duration_s: null,
    model_timeout_s: 60,
    model_max_attempts: 10,
    output_schema: null,
    max_output_repairs: 2,
    approval_timeout_s: 3600,
    prompt_variables: [],
    on_tool_error: 'continue',
    created_at: AT,
    updated_at: AT,
    ...over,
  };
}

export const demoV1 = agent('demo', 1, {
  current_version: 2,
  system_prompt: 'You are {{ agent }}.\nBe brief.',
  tools: ['calculator'],
});
export const demo = agent('demo', 2, {
  system_prompt: 'You are {{ agent }}.\nHelp {{ customer }}.\nBe brief.',
  tools: ['calculator', 'ask_librarian'],
  prompt_variables: ['customer'],
  fallbacks: [{ provider: 'backup', model: '' }],
  max_steps: 5,
});
export const librarian = agent('librarian', 1, { tools: ['docs__search'] });

export const route: Route = {
  key: 'support',
  agent: 'demo',
  description: 'the help desk',
  created_at: AT,
  updated_at: AT,
};

export const docsServer: McpServer = {
  name: 'docs',
  transport: 'http',
  command: null,
  args: [],
  env: {},
  url: 'https://mcp.example.com/mcp',
  headers: { Authorization: '${DOCS_TOKEN}' },
  timeout_s: 30,
  discovered_at: AT,
  discovery_error: null,
  tools: [{ name: 'docs__search', tool: 'search', description: 'Search the docs', stale: false }],
  created_at: AT,
  updated_at: AT,
};

/** Answers the configuration's GETs (and the stats), anything else 404. */
export function configAnswer(request: Seen): Response {
  if (request.method !== 'GET') return json(404, { error: 'not_found', detail: 'not mocked' });
  const answers: Record<string, unknown> = {
    '/v1/providers': [provider, backup],
    '/v1/tools': [calculator, askLibrarian, docsSearch],
    '/v1/tools/calculator': calculator,
    '/v1/agents': [demo, librarian],
    '/v1/agents/demo': demo,
    '/v1/agents/demo/versions': [demoV1, demo],
    '/v1/routes': [route],
    '/v1/mcp-servers': [docsServer],
    '/v1/stats/agents': {
      window: '1h',
      since: AT,
      agents: [{ agent: 'demo', runs: { failed: 2, completed: 5 } }],
    },
  };
  const body = answers[request.url];
  return body === undefined ? json(404, { error: 'not_found', detail: 'not mocked' }) : json(200, body);
}
