import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';

import { api, call } from '../api/client';
import type { components } from '../api/schema';
import { useApi } from '../api/useApi';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { Page } from '../components/Page';
import { durationBetween, formatTime } from '../runs/format';
import { Status } from '../runs/Status';

type RunSummary = components['schemas']['RunSummary'];
type ListedStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

export const STATUSES: readonly ListedStatus[] = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
];

/** The time filter: runs started in the last … (the API has none: applied to what it lists). */
export const SINCE: Record<string, { label: string; ms: number }> = {
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last day', ms: 86_400_000 },
  '7d': { label: 'Last week', ms: 7 * 86_400_000 },
};

const PAGE_SIZE = 50;

const CURL = `curl -X POST localhost:8000/v1/runs \\
  -H "Authorization: Bearer $ORCH_TOKEN" \\
  -H 'content-type: application/json' \\
  -d '{"agent": "demo", "input": "12*7?"}'`;

/** The filters as the URL holds them (`?agent=&status=&since=&page=`), so a link reproduces the view. */
interface Filters {
  agent: string;
  status: ListedStatus | '';
  since: string;
  page: string;
}

function filtersOf(params: URLSearchParams): Filters {
  const status = params.get('status') ?? '';
  const since = params.get('since') ?? '';
  return {
    agent: params.get('agent') ?? '',
    status: (STATUSES as readonly string[]).includes(status) ? (status as ListedStatus) : '',
    since: since in SINCE ? since : '',
    page: params.get('page') ?? '',
  };
}

/**
 * The runs of this page that started within the time filter, and whether a later page can hold
 * any: the API lists running runs first, then closed ones by close time, newest first, so once a
 * closed run closed before the cutoff, every later one started before it too.
 */
export function withinWindow(runs: RunSummary[], cutoff: number | null): { runs: RunSummary[]; more: boolean } {
  if (cutoff === null) return { runs, more: true };
  const kept = runs.filter((r) => r.started_at !== null && new Date(r.started_at).getTime() >= cutoff);
  const last = runs[runs.length - 1];
  const more = !(last?.closed_at && new Date(last.closed_at).getTime() < cutoff);
  return { runs: kept, more };
}

export function Runs() {
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const [agent, setAgent] = useState(filters.agent);
  // Captured when the page (or its filters) load, so the list is pure in render.
  const [loadedAt] = useState(() => Date.now());

  const list = useApi(
    (signal) =>
      call(
        api.GET('/v1/runs', {
          params: {
            query: {
              limit: PAGE_SIZE,
              ...(filters.agent ? { agent: filters.agent } : {}),
              ...(filters.status ? { status: filters.status } : {}),
              ...(filters.page ? { page_token: filters.page } : {}),
            },
          },
          signal,
        }),
      ),
    [filters.agent, filters.status, filters.page],
  );

  const update = (next: Partial<Record<'agent' | 'status' | 'since' | 'page', string>>) => {
    const merged = { ...filters, page: '', ...next };
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(merged)) if (value) query.set(key, value);
    setParams(query);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    update({ agent: agent.trim() });
  };

  const cutoff = filters.since ? loadedAt - (SINCE[filters.since]?.ms ?? 0) : null;
  const page = list.data ? withinWindow(list.data.runs, cutoff) : null;
  const nextToken = page?.more ? list.data?.next_page_token : null;
  const filtered = Boolean(filters.agent || filters.status || filters.since);

  return (
    <Page title="Runs">
      <form className="filters" onSubmit={onSubmit} aria-label="Filter runs">
        <Field label="Agent" name="agent" hint="An agent’s name; empty for all." error={list.error?.field('agent')}>
          {(control) => (
            <input
              {...control}
              value={agent}
              onChange={(e) => setAgent(e.target.value)}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
        <Field label="Status" name="status" hint="Temporal’s: a stopped run is “completed” here.">
          {(control) => (
            <select {...control} value={filters.status} onChange={(e) => update({ status: e.target.value })}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.replace('_', ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Started" name="since" hint="When the run started.">
          {(control) => (
            <select {...control} value={filters.since} onChange={(e) => update({ since: e.target.value })}>
              <option value="">Any time</option>
              {Object.entries(SINCE).map(([key, { label }]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="filters-actions">
          <button type="submit">Apply</button>
          {filtered ? (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setAgent('');
                setParams(new URLSearchParams());
              }}
            >
              Clear filters
            </button>
          ) : null}
        </div>
      </form>

      {list.state === 'loading' ? <p className="muted">Loading runs…</p> : null}
      {list.state === 'error' && !list.error.field('agent') ? <ErrorMessage error={list.error} /> : null}
      {page && page.runs.length === 0 ? (
        filtered || filters.page ? (
          <EmptyState
            title="No runs match these filters"
            action={
              <button type="button" className="secondary" onClick={() => setParams(new URLSearchParams())}>
                Show all runs
              </button>
            }
          >
            <p>Try another agent, status or time, or clear the filters.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No runs yet" action={<Link to="/agents">Pick an agent to run</Link>}>
            <p>
              Start one from an agent’s “try it” panel, with <code>orch run AGENT INPUT</code>, or with curl:
            </p>
            <pre className="code">{CURL}</pre>
          </EmptyState>
        )
      ) : null}
      {page && page.runs.length > 0 ? (
        <div className="table-wrap" role="region" aria-label="Runs" tabIndex={0}>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {page.runs.map((r) => (
                <tr key={r.run_id}>
                  <td>
                    <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                    {r.parent_run_id ? (
                      <span className="muted sub-of">
                        {' '}
                        sub-agent of <Link to={`/runs/${encodeURIComponent(r.parent_run_id)}`}>{r.parent_run_id}</Link>
                      </span>
                    ) : null}
                  </td>
                  <td>{r.agent ?? <span className="muted">unknown</span>}</td>
                  <td>
                    <Status status={r.status} />
                  </td>
                  <td>{formatTime(r.started_at)}</td>
                  <td>{r.closed_at ? durationBetween(r.started_at, r.closed_at) : 'still running'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data ? (
        <nav className="pager" aria-label="Pages of runs">
          {filters.page ? (
            <button type="button" className="secondary" onClick={() => update({ page: '' })}>
              First page
            </button>
          ) : null}
          {nextToken ? (
            <button type="button" onClick={() => update({ page: nextToken })}>
              Next page
            </button>
          ) : page && page.runs.length > 0 ? (
            <span className="muted">No more runs.</span>
          ) : null}
        </nav>
      ) : null}
    </Page>
  );
}
