import '@xyflow/react/dist/style.css';

import { Controls, Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { useMemo, useState, type MouseEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { api, ApiError, call } from '../api/client';
import { fetchAgentStats } from '../api/stats';
import type { McpServer } from '../api/types';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import {
  buildTopology,
  COLUMN_TITLES,
  COLUMNS,
  failingByAgent,
  type EdgeKind,
  type TopoEdge,
  type TopoNode,
} from '../topology/model';

type TopoFlowNode = Node<{ node: TopoNode }, 'topo'>;

const KIND_WORD: Record<TopoNode['kind'], string> = {
  route: 'route',
  agent: 'agent',
  tool: 'tool',
  provider: 'provider',
  mcp: 'MCP server',
};

const EDGE_WORD: Record<EdgeKind, string> = {
  runs: 'runs',
  uses: 'uses tool',
  provider: 'provider',
  fallback: 'fallback',
  server: 'on server',
  'sub-agent': 'sub-agent',
};

function failingText(n: number): string {
  return `${n} failed run${n === 1 ? '' : 's'} in the last hour`;
}

/** One node: its kind, its name as a link (Tab reaches it, Enter opens it), the failing badge. */
function TopoNodeView({ data }: NodeProps<TopoFlowNode>) {
  const { node } = data;
  return (
    <div className={`topo-node topo-${node.kind}${node.failing > 0 ? ' topo-failing' : ''}`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <span className="topo-kind">{KIND_WORD[node.kind]}</span>
      <Link className="topo-name nodrag" to={node.href}>
        {node.name}
      </Link>
      <span className="topo-detail">{node.detail}</span>
      {node.failing > 0 ? (
        <span className="badge badge-danger" title={failingText(node.failing)}>
          {node.failing} failed (1 h)
        </span>
      ) : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { topo: TopoNodeView };

/** The graph as text: each node and where its edges go (for screen readers and narrow screens). */
function GraphList({ nodes, edges }: { nodes: TopoNode[]; edges: TopoEdge[] }) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return (
    <div className="topo-list">
      {COLUMNS.map((kind) => {
        const inColumn = nodes.filter((n) => n.kind === kind);
        if (inColumn.length === 0) return null;
        return (
          <section key={kind} aria-label={COLUMN_TITLES[kind]}>
            <h3>{COLUMN_TITLES[kind]}</h3>
            <ul>
              {inColumn.map((n) => {
                const out = edges.filter((e) => e.source === n.id);
                return (
                  <li key={n.id}>
                    <Link to={n.href}>{n.name}</Link> <span className="muted">({n.detail})</span>
                    {n.failing > 0 ? <span className="badge badge-danger">{failingText(n.failing)}</span> : null}
                    {out.length > 0 ? (
                      <ul>
                        {out.map((e) => {
                          const target = byId.get(e.target);
                          return target ? (
                            <li key={e.id}>
                              {EDGE_WORD[e.kind]} <Link to={target.href}>{target.name}</Link>
                            </li>
                          ) : null;
                        })}
                      </ul>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

/** /ui/topology: routes → agents → tools, providers, MCP servers and sub-agents, as a graph. */
export function Topology() {
  const { who } = useSession();
  const admin = allows(who, 'admin');
  const navigate = useNavigate();
  // On a phone the graph is small: the list opens by itself.
  const [narrow] = useState(() => window.matchMedia?.('(max-width: 48rem)').matches ?? false);
  const config = useApi(
    (signal) =>
      Promise.all([
        call(api.GET('/v1/routes', { signal })),
        call(api.GET('/v1/agents', { signal })),
        call(api.GET('/v1/tools', { signal })),
        call(api.GET('/v1/providers', { signal })),
        admin
          ? call(api.GET('/v1/mcp-servers', { signal })).catch((err: unknown) => {
              if (err instanceof ApiError && err.status === 403) return [] as McpServer[];
              throw err;
            })
          : Promise.resolve([] as McpServer[]),
      ]),
    [admin],
  );
  const stats = useApi((signal) => fetchAgentStats('1h', signal), []);

  const graph = useMemo(() => {
    if (!config.data) return null;
    const [routes, agents, tools, providers, mcpServers] = config.data;
    return buildTopology({
      routes,
      agents,
      tools,
      providers,
      mcpServers,
      failing: failingByAgent(stats.data?.agents),
    });
  }, [config.data, stats.data]);

  const flow = useMemo(() => {
    if (!graph) return { nodes: [], edges: [] };
    const nodes: TopoFlowNode[] = graph.nodes.map((n) => ({
      id: n.id,
      type: 'topo',
      position: { x: n.x, y: n.y },
      data: { node: n },
      ariaLabel: `${KIND_WORD[n.kind]} ${n.name}${n.failing > 0 ? `, ${failingText(n.failing)}` : ''}`,
    }));
    const edges: Edge[] = graph.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      label: e.kind === 'uses' || e.kind === 'runs' ? undefined : EDGE_WORD[e.kind],
      className: `topo-edge-${e.kind}`,
      animated: e.kind === 'sub-agent',
      markerEnd: { type: MarkerType.ArrowClosed },
    }));
    return { nodes, edges };
  }, [graph]);

  const open = (event: MouseEvent, node: TopoFlowNode) => {
    // A click on the name's link navigates by itself.
    if (event.target instanceof Element && event.target.closest('a')) return;
    void navigate(node.data.node.href);
  };

  return (
    <Page title="Topology">
      {config.state === 'loading' ? <p>Loading the configuration…</p> : null}
      {config.state === 'error' ? <ErrorMessage error={config.error} /> : null}
      {graph && graph.nodes.length === 0 ? (
        <EmptyState title="Nothing to draw yet" action={<Link to="/providers">Start with a provider</Link>}>
          <p>
            Routes, agents, tools, providers and MCP servers are drawn here. Create a provider, then an agent (and a
            route to it) to see its graph.
          </p>
        </EmptyState>
      ) : null}
      {graph && graph.nodes.length > 0 ? (
        <>
          <p className="field-hint">
            Columns: routes → agents → tools (and the providers under them) → MCP servers. Click a node, or Tab to its
            name and press Enter, to open it. Agents with failed runs in the last hour carry a “failed” badge.
            {stats.state === 'error' ? ' (Failed runs cannot be shown: the run statistics are unavailable.)' : ''}
          </p>
          <div className="topology-canvas">
            <ReactFlow
              nodes={flow.nodes}
              edges={flow.edges}
              nodeTypes={NODE_TYPES}
              onNodeClick={open}
              nodesFocusable={false}
              edgesFocusable={false}
              nodesConnectable={false}
              fitView
              minZoom={0.2}
              colorMode="system"
            >
              <Controls showInteractive={false} />
            </ReactFlow>
          </div>
          <details className="card" open={narrow}>
            <summary>The graph as a list</summary>
            <GraphList nodes={graph.nodes} edges={graph.edges} />
          </details>
        </>
      ) : null}
    </Page>
  );
}
