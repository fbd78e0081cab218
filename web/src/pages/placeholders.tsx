/**
 * The pages before they are built: each says what it will show and what to do meanwhile.
 * A page author replaces one export here with a module of its own (src/pages/Runs.tsx, …) and
 * points src/routes.tsx at it.
 */
import { Link, useParams } from 'react-router';

import { EmptyState } from '../components/EmptyState';
import { Page } from '../components/Page';

export function Overview() {
  return (
    <Page title="Overview">
      <EmptyState title="No figures yet" action={<Link to="/agents">Go to agents</Link>}>
        <p>Runs by status, durations, tokens and cost per agent will show here. Start a run of an agent to see it.</p>
      </EmptyState>
    </Page>
  );
}

export function Runs() {
  return (
    <Page title="Runs">
      <EmptyState title="No runs to show" action={<Link to="/agents">Pick an agent to run</Link>}>
        <p>
          Runs appear here once started: from an agent’s “try it” panel, <code>orch run AGENT INPUT</code>, or{' '}
          <code>POST /v1/runs</code>.
        </p>
      </EmptyState>
    </Page>
  );
}

export function RunDetail() {
  const { runId = '' } = useParams();
  return (
    <Page title={`Run ${runId}`}>
      <EmptyState title="This run’s timeline is not shown yet" action={<Link to="/runs">Back to runs</Link>}>
        <p>Steps, tool calls, approvals and the answer of the run will show here.</p>
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
