import { Link, useSearchParams } from 'react-router';

import { agentStats, type AgentStats, type StatsWindow } from '../api/stats';
import { useApi } from '../api/useApi';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import { formatCost, formatDuration, formatTime } from '../runs/format';

export const WINDOWS: { value: StatsWindow; label: string }[] = [
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last day' },
  { value: '7d', label: 'Last week' },
];

/** The order statuses are listed in; any other the API sends comes after. */
const STATUS_ORDER = [
  'unfinished',
  'running',
  'completed',
  'stopped',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
];

export function runsInWords(runs: Record<string, number>): string {
  const keys = Object.keys(runs)
    .filter((k) => (runs[k] ?? 0) > 0)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return keys.length === 0 ? 'none' : keys.map((k) => `${runs[k]} ${k.replace('_', ' ')}`).join(', ');
}

function rank(status: string): number {
  const at = STATUS_ORDER.indexOf(status);
  return at === -1 ? STATUS_ORDER.length : at;
}

function total(runs: Record<string, number>): number {
  return Object.values(runs).reduce((sum, n) => sum + n, 0);
}

const integer = new Intl.NumberFormat();

/** Per agent: runs by status, p50/p95 duration, tokens and cost, over a window (`?window=`). */
export function Overview() {
  const [params, setParams] = useSearchParams();
  const asked = params.get('window');
  const window: StatsWindow = WINDOWS.some((w) => w.value === asked) ? (asked as StatsWindow) : '24h';
  const stats = useApi((signal) => agentStats(window, signal), [window]);
  const agents = (stats.data?.agents ?? []).filter((a) => total(a.runs) > 0);

  return (
    <Page title="Overview">
      <fieldset className="window-switch">
        <legend>Window</legend>
        {WINDOWS.map((w) => (
          <label key={w.value}>
            <input
              type="radio"
              name="window"
              value={w.value}
              checked={window === w.value}
              onChange={() => setParams(w.value === '24h' ? {} : { window: w.value })}
            />{' '}
            {w.label}
          </label>
        ))}
      </fieldset>
      {stats.state === 'loading' ? <p className="muted">Loading figures…</p> : null}
      {stats.state === 'error' ? (
        stats.error.status === 404 ? (
          <p role="alert" className="error-message">
            This API has no figures to show: it does not answer GET /v1/stats/agents. Update the API, then reload.
          </p>
        ) : (
          <ErrorMessage error={stats.error} />
        )
      ) : null}
      {stats.data && agents.length === 0 ? (
        <EmptyState title="No runs in this window" action={<Link to="/agents">Pick an agent to run</Link>}>
          <p>
            Start a run from an agent’s “try it” panel, or with <code>POST /v1/runs</code>; its figures show here. Or
            pick a longer window.
          </p>
        </EmptyState>
      ) : null}
      {stats.data && agents.length > 0 ? (
        <>
          <p className="muted">Since {formatTime(stats.data.since)}.</p>
          <div className="table-wrap" role="region" aria-label="Runs per agent" tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Runs</th>
                  <th scope="col">By status</th>
                  <th scope="col">Duration p50</th>
                  <th scope="col">Duration p95</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {agents.map((a) => (
                  <AgentRow key={a.agent} stats={a} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Page>
  );
}

function AgentRow({ stats: a }: { stats: AgentStats }) {
  return (
    <tr>
      <th scope="row">
        <Link to={`/runs?agent=${encodeURIComponent(a.agent)}`}>{a.agent}</Link>
      </th>
      <td>{integer.format(total(a.runs))}</td>
      <td>
        {runsInWords(a.runs)}
        {(a.runs.failed ?? 0) > 0 ? (
          <>
            {' '}
            <Link to={`/runs?agent=${encodeURIComponent(a.agent)}&status=failed`}>see failed</Link>
          </>
        ) : null}
      </td>
      <td>{formatDuration(a.duration_ms.p50)}</td>
      <td>{formatDuration(a.duration_ms.p95)}</td>
      <td>{integer.format(a.total_tokens)}</td>
      <td>{formatCost(a.cost_usd)}</td>
    </tr>
  );
}
