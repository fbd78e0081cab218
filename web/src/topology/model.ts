/**
 * The topology as a graph, computed from the configuration alone (a pure function, so that it is
 * tested without a browser): routes → agents → tools, providers (and fallbacks), MCP servers and
 * sub-agents, laid out in columns by kind (the providers under the tools, so that an agent's edge
 * to its provider crosses no tool).
 */
import type { Agent, McpServer, Provider, Route, Tool } from '../api/types';

export type NodeKind = 'route' | 'agent' | 'tool' | 'provider' | 'mcp';
export type EdgeKind = 'runs' | 'uses' | 'provider' | 'fallback' | 'server' | 'sub-agent';

export interface TopoNode {
  id: string;
  kind: NodeKind;
  name: string;
  /** A line under the name: the tool's kind, the provider's kind, the model. */
  detail: string;
  /** The page it opens (a router path). */
  href: string;
  column: number;
  row: number;
  x: number;
  y: number;
  /** Runs of this agent that failed in the window (0: none, or not an agent). */
  failing: number;
}

export interface TopoEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
}

export interface TopologyInput {
  routes: readonly Route[];
  agents: readonly Agent[];
  tools: readonly Tool[];
  providers: readonly Provider[];
  /** Only an admin may read them; without, the MCP tools' `config.server` still names them. */
  mcpServers?: readonly McpServer[];
  /** Failed runs by agent name (last hour). */
  failing?: Readonly<Record<string, number>>;
}

export const COLUMNS: readonly NodeKind[] = ['route', 'agent', 'tool', 'provider', 'mcp'];
export const COLUMN_TITLES: Record<NodeKind, string> = {
  route: 'Routes',
  agent: 'Agents',
  tool: 'Tools',
  provider: 'Providers',
  mcp: 'MCP servers',
};
export const COLUMN_WIDTH = 290;
export const ROW_HEIGHT = 90;
/** Between the tools and the providers under them. */
export const GROUP_GAP = 40;
/** Where each kind is drawn: routes, agents, tools then providers, MCP servers. */
export const SLOT_OF: Record<NodeKind, number> = { route: 0, agent: 1, tool: 2, provider: 2, mcp: 3 };
const SLOTS = [0, 1, 2, 3] as const;

export function nodeId(kind: NodeKind, name: string): string {
  return `${kind}:${name}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

const enc = encodeURIComponent;

export function buildTopology(input: TopologyInput): { nodes: TopoNode[]; edges: TopoEdge[] } {
  const byKind: Record<NodeKind, Omit<TopoNode, 'column' | 'row' | 'x' | 'y'>[]> = {
    route: [],
    agent: [],
    tool: [],
    provider: [],
    mcp: [],
  };
  const ids = new Set<string>();
  const add = (kind: NodeKind, name: string, detail: string, href: string, failing = 0) => {
    const id = nodeId(kind, name);
    if (ids.has(id)) return;
    ids.add(id);
    byKind[kind].push({ id, kind, name, detail, href, failing });
  };

  for (const r of input.routes) add('route', r.key, r.description || 'route', '/routes');
  for (const a of input.agents) {
    add('agent', a.name, a.model || 'default model', `/agents/${enc(a.name)}`, input.failing?.[a.name] ?? 0);
  }
  for (const t of input.tools) add('tool', t.name, t.kind, `/tools/${enc(t.name)}`);
  for (const p of input.providers) add('provider', p.name, p.kind, '/providers');
  for (const s of input.mcpServers ?? []) add('mcp', s.name, s.transport, '/mcp-servers');
  for (const t of input.tools) {
    const server = t.kind === 'mcp' ? text((t.config as Record<string, unknown>).server) : null;
    if (server) add('mcp', server, 'MCP server', '/mcp-servers');
  }

  const edges: TopoEdge[] = [];
  const edgeIds = new Set<string>();
  const link = (source: string, target: string, kind: EdgeKind) => {
    const id = `${kind}:${source}->${target}`;
    if (!ids.has(source) || !ids.has(target) || edgeIds.has(id)) return;
    edgeIds.add(id);
    edges.push({ id, source, target, kind });
  };

  for (const r of input.routes) link(nodeId('route', r.key), nodeId('agent', r.agent), 'runs');
  for (const a of input.agents) {
    const agent = nodeId('agent', a.name);
    for (const t of a.tools) link(agent, nodeId('tool', t), 'uses');
    link(agent, nodeId('provider', a.provider), 'provider');
    for (const f of a.fallbacks) link(agent, nodeId('provider', f.provider), 'fallback');
  }
  for (const t of input.tools) {
    const config = t.config as Record<string, unknown>;
    const tool = nodeId('tool', t.name);
    if (t.kind === 'mcp') {
      const server = text(config.server);
      if (server) link(tool, nodeId('mcp', server), 'server');
    }
    if (t.kind === 'agent') {
      const agent = text(config.agent);
      if (agent) link(tool, nodeId('agent', agent), 'sub-agent');
    }
  }

  // Rows: each column follows the one it hangs from, so that edges cross little: agents in the
  // order of the routes to them, tools and providers in the order of the agents that use them,
  // MCP servers in the order of their tools; then by name. Columns are centred on each other.
  const rank = new Map<string, number>();
  const order = (kind: NodeKind, sources: NodeKind) => {
    const position = (id: string) => {
      let best = Number.POSITIVE_INFINITY;
      edges.forEach((e, i) => {
        const source = rank.get(e.source);
        if (e.target === id && source !== undefined && e.source.startsWith(`${sources}:`)) {
          best = Math.min(best, source * 10_000 + i);
        }
      });
      return best;
    };
    const sorted = [...byKind[kind]]
      .map((node) => ({ node, at: position(node.id) }))
      .sort((x, y) => x.at - y.at || (x.node.name < y.node.name ? -1 : x.node.name > y.node.name ? 1 : 0))
      .map(({ node }) => node);
    sorted.forEach((node, row) => rank.set(node.id, row));
    return sorted;
  };
  const columns: Record<NodeKind, Omit<TopoNode, 'column' | 'row' | 'x' | 'y'>[]> = {
    route: order('route', 'route'),
    agent: order('agent', 'route'),
    tool: order('tool', 'agent'),
    provider: order('provider', 'agent'),
    mcp: order('mcp', 'tool'),
  };
  // Providers stand under the tools, in the same column: an agent's edges to them then cross no
  // tool. The columns are centred on the tallest.
  const heights = SLOTS.map((_, slot) =>
    COLUMNS.filter((kind) => SLOT_OF[kind] === slot).reduce(
      (sum, kind, i) => sum + columns[kind].length * ROW_HEIGHT + (i > 0 && columns[kind].length > 0 ? GROUP_GAP : 0),
      0,
    ),
  );
  const tallest = Math.max(...heights);
  const filled = SLOTS.map(() => 0);
  const nodes: TopoNode[] = [];
  COLUMNS.forEach((kind, column) => {
    const slot = SLOT_OF[kind];
    const offset = (tallest - (heights[slot] ?? 0)) / 2;
    if ((filled[slot] ?? 0) > 0 && columns[kind].length > 0) filled[slot] = (filled[slot] ?? 0) + GROUP_GAP;
    columns[kind].forEach((node, row) => {
      const y = offset + (filled[slot] ?? 0);
      filled[slot] = (filled[slot] ?? 0) + ROW_HEIGHT;
      nodes.push({ ...node, column, row, x: slot * COLUMN_WIDTH, y });
    });
  });
  return { nodes, edges };
}

/** Failed runs by agent, from `GET /v1/stats/agents` (agents with none are left out). */
export function failingByAgent(
  stats: readonly { agent: string; runs: Readonly<Record<string, number | undefined>> }[] | null | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of stats ?? []) {
    const failed = s.runs['failed'] ?? 0;
    if (failed > 0) out[s.agent] = failed;
  }
  return out;
}
