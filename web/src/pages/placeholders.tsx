/**
 * The pages before they are built: each says what it will show and what to do meanwhile.
 * A page author replaces one export here with a module of its own (src/pages/Runs.tsx, …) and
 * points src/routes.tsx at it.
 */
import { Link, useParams } from 'react-router';

import { EmptyState } from '../components/EmptyState';
import { Page } from '../components/Page';

export function Topology() {
  return (
    <Page title="Topology">
      <EmptyState title="Nothing to draw yet" action={<Link to="/routes">Go to routes</Link>}>
        <p>Routes, agents, tools, providers and MCP servers will be drawn here. Create an agent to see its graph.</p>
      </EmptyState>
    </Page>
  );
}

export function Agents() {
  return (
    <Page title="Agents">
      <EmptyState title="No agents shown" action={<Link to="/providers">Set up a provider first</Link>}>
        <p>An agent is a model provider, a system prompt, tools and limits. Add a provider, then create an agent.</p>
      </EmptyState>
    </Page>
  );
}

export function AgentDetail() {
  const { name = '' } = useParams();
  return (
    <Page title={`Agent ${name}`}>
      <EmptyState title="This agent’s page is not built yet" action={<Link to="/agents">Back to agents</Link>}>
        <p>Its definition, version history and a “try it” panel will show here.</p>
      </EmptyState>
    </Page>
  );
}

export function Tools() {
  return (
    <Page title="Tools">
      <EmptyState title="No tools shown" action={<Link to="/agents">Go to agents</Link>}>
        <p>
          Tools are HTTP APIs, workspace files, search, MCP tools and sub-agents that agents may call. Create one to
          give it to an agent.
        </p>
      </EmptyState>
    </Page>
  );
}

export function ToolDetail() {
  const { name = '' } = useParams();
  return (
    <Page title={`Tool ${name}`}>
      <EmptyState title="This tool’s page is not built yet" action={<Link to="/tools">Back to tools</Link>}>
        <p>Its definition, timeout, retries and approval setting will show here.</p>
      </EmptyState>
    </Page>
  );
}

export function Providers() {
  return (
    <Page title="Providers">
      <EmptyState title="No providers shown">
        <p>
          A provider is a model API and the name of the environment variable holding its key (never the key). Add one
          before creating agents.
        </p>
      </EmptyState>
    </Page>
  );
}

export function RoutesPage() {
  return (
    <Page title="Routes">
      <EmptyState title="No routes shown" action={<Link to="/agents">Go to agents</Link>}>
        <p>
          A route is a stable key that starts runs of an agent (<code>POST /v1/routes/KEY/runs</code>). Create one for
          an agent.
        </p>
      </EmptyState>
    </Page>
  );
}

export function McpServers() {
  return (
    <Page title="MCP servers">
      <EmptyState title="No MCP servers shown">
        <p>Register an MCP server, then discover its tools to give them to agents.</p>
      </EmptyState>
    </Page>
  );
}

export function NotFound() {
  return (
    <Page title="Page not found">
      <EmptyState title="There is no page here" action={<Link to="/">Go to the overview</Link>}>
        <p>The address may be mistyped, or the page moved.</p>
      </EmptyState>
    </Page>
  );
}
