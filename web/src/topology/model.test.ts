import { describe, expect, it } from 'vitest';

import {
  askLibrarian,
  backup,
  calculator,
  demo,
  docsSearch,
  docsServer,
  librarian,
  provider,
  route,
} from '../test/config';
import { buildTopology, COLUMN_WIDTH, failingByAgent, GROUP_GAP, nodeId, ROW_HEIGHT } from './model';

const input = {
  routes: [route],
  agents: [demo, librarian],
  tools: [calculator, askLibrarian, docsSearch],
  providers: [provider, backup],
  mcpServers: [docsServer],
};

describe('buildTopology', () => {
  it('makes a node per route, agent, tool, provider and MCP server, in columns by kind', () => {
    const { nodes } = buildTopology(input);
    expect(nodes.map((n) => n.id)).toEqual([
      'route:support',
      'agent:demo',
      'agent:librarian',
      'tool:calculator',
      'tool:ask_librarian',
      'tool:docs__search',
      'provider:openai',
      'provider:backup',
      'mcp:docs',
    ]);
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    expect(byId['route:support']).toMatchObject({ column: 0, row: 0, x: 0, href: '/routes' });
    expect(byId['agent:librarian']).toMatchObject({ column: 1, row: 1, x: COLUMN_WIDTH, href: '/agents/librarian' });
    expect(byId['tool:calculator']).toMatchObject({ column: 2, href: '/tools/calculator', detail: 'calculator' });
    expect(byId['mcp:docs']).toMatchObject({ column: 4, x: 3 * COLUMN_WIDTH, href: '/mcp-servers' });
    // Providers stand under the tools, in the same column.
    expect(byId['provider:openai']).toMatchObject({ x: 2 * COLUMN_WIDTH, y: 3 * ROW_HEIGHT + GROUP_GAP });
    // No two nodes in the same place.
    expect(new Set(nodes.map((n) => `${n.x},${n.y}`)).size).toBe(nodes.length);
  });

  it('draws routes → agents → tools, providers, fallbacks, MCP servers and sub-agents', () => {
    const { edges } = buildTopology(input);
    const pairs = edges.map((e) => `${e.source} ${e.kind} ${e.target}`).sort();
    expect(pairs).toEqual(
      [
        'route:support runs agent:demo',
        'agent:demo uses tool:calculator',
        'agent:demo uses tool:ask_librarian',
        'agent:demo provider provider:openai',
        'agent:demo fallback provider:backup',
        'agent:librarian uses tool:docs__search',
        'agent:librarian provider provider:openai',
        'tool:docs__search server mcp:docs',
        'tool:ask_librarian sub-agent agent:librarian',
      ].sort(),
    );
  });

  it('names an MCP server from its tools when the server list cannot be read', () => {
    const { nodes, edges } = buildTopology({ ...input, mcpServers: undefined });
    expect(nodes.find((n) => n.id === 'mcp:docs')).toBeDefined();
    expect(edges.some((e) => e.source === 'tool:docs__search' && e.target === 'mcp:docs')).toBe(true);
  });

  it('leaves out edges to things that do not exist', () => {
    const { edges } = buildTopology({ ...input, routes: [{ ...route, agent: 'gone' }], agents: [], tools: [] });
    expect(edges).toEqual([]);
  });

  it('orders each column after the one it hangs from, and centres the shorter columns', () => {
    const { nodes } = buildTopology(input);
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    // demo (row 0) uses calculator, then ask_librarian; librarian (row 1) uses docs__search.
    expect(byId['tool:calculator']?.row).toBe(0);
    expect(byId['tool:docs__search']?.row).toBe(2);
    // One route beside three tools and two providers: centred on that column.
    const tallest = 5 * ROW_HEIGHT + GROUP_GAP;
    expect(byId['route:support']?.y).toBe((tallest - ROW_HEIGHT) / 2);
    expect(byId['tool:calculator']?.y).toBe(0);
  });

  it('marks agents with failed runs', () => {
    const failing = failingByAgent([
      { agent: 'demo', runs: { failed: 3, completed: 1 } },
      { agent: 'librarian', runs: { failed: 0, completed: 4 } },
    ]);
    expect(failing).toEqual({ demo: 3 });
    const { nodes } = buildTopology({ ...input, failing });
    expect(nodes.find((n) => n.id === nodeId('agent', 'demo'))?.failing).toBe(3);
    expect(nodes.find((n) => n.id === nodeId('agent', 'librarian'))?.failing).toBe(0);
  });

  it('is empty for an empty configuration', () => {
    expect(buildTopology({ routes: [], agents: [], tools: [], providers: [] })).toEqual({ nodes: [], edges: [] });
  });
});
