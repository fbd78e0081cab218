import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { json, type Seen } from '../test/fetch';
import { renderApp } from '../test/render';
import { withinWindow } from './Runs';

const HOUR = 3_600_000;

function run(id: string, startedAgoMs: number, closedAgoMs: number | null, extra: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    run_id: id,
    agent: 'demo',
    status: closedAgoMs === null ? 'running' : 'completed',
    started_at: new Date(now - startedAgoMs).toISOString(),
    closed_at: closedAgoMs === null ? null : new Date(now - closedAgoMs).toISOString(),
    parent_run_id: null,
    ...extra,
  };
}

/** The query of each GET /v1/runs so far, its parameters sorted (`agent=demo&limit=50`). */
function runQueries(): string[] {
  return vi
    .mocked(globalThis.fetch)
    .mock.calls.map(([input]) => new URL(input instanceof Request ? input.url : String(input), window.location.origin))
    .filter((url) => url.pathname === '/v1/runs')
    .map((url) => {
      url.searchParams.sort();
      return url.searchParams.toString();
    });
}

function answerRuns(body: unknown) {
  return (request: Seen) =>
    request.url === '/v1/runs' ? json(200, body) : json(404, { error: 'not_found', detail: 'not mocked' });
}

describe('the runs list', () => {
  it('lists runs with their status in words, each linking to the run', async () => {
    renderApp(
      '/runs',
      answerRuns({
        runs: [run('run-a', 1000, null), run('run-b', 2 * HOUR, HOUR, { status: 'failed', parent_run_id: 'run-p' })],
        next_page_token: null,
      }),
    );
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1] as HTMLElement).getByRole('link', { name: 'run-a' })).toHaveAttribute('href', '/runs/run-a');
    expect(within(rows[1] as HTMLElement).getByText('running')).toBeInTheDocument();
    expect(within(rows[1] as HTMLElement).getByText('still running')).toBeInTheDocument();
    expect(within(rows[2] as HTMLElement).getByText('failed')).toBeInTheDocument();
    expect(within(rows[2] as HTMLElement).getByRole('link', { name: 'run-p' })).toHaveAttribute('href', '/runs/run-p');
    expect(within(rows[2] as HTMLElement).getByText('1 h 00 min')).toBeInTheDocument();
    expect(screen.getByText('No more runs.')).toBeInTheDocument();
  });

  it('reads its filters from the URL and sends them to the API', async () => {
    const { router } = renderApp(
      '/runs?agent=demo&status=failed&since=24h',
      answerRuns({ runs: [], next_page_token: null }),
    );
    await screen.findByRole('heading', { name: 'No runs match these filters' });
    expect(runQueries()).toEqual(['agent=demo&limit=50&status=failed']);
    expect(screen.getByLabelText('Agent')).toHaveValue('demo');
    expect(screen.getByLabelText('Status')).toHaveValue('failed');
    expect(screen.getByLabelText('Started')).toHaveValue('24h');
    expect(router.state.location.search).toBe('?agent=demo&status=failed&since=24h');
  });

  it('puts a changed filter in the URL and asks the API with it', async () => {
    const { router } = renderApp('/runs', answerRuns({ runs: [run('run-a', 1000, 500)], next_page_token: null }));
    await screen.findByRole('table');
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Status'), 'completed');
    await waitFor(() => expect(router.state.location.search).toBe('?status=completed'));
    await user.type(screen.getByLabelText('Agent'), 'support');
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(router.state.location.search).toBe('?agent=support&status=completed'));
    await waitFor(() => expect(runQueries().at(-1)).toBe('agent=support&limit=50&status=completed'));
    expect(runQueries()).toContain('limit=50&status=completed');
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    await waitFor(() => expect(runQueries().at(-1)).toBe('limit=50'));
  });

  it('goes to the next page with the API’s page token, kept in the URL', async () => {
    const { router } = renderApp(
      '/runs?agent=demo',
      answerRuns({ runs: [run('run-a', 1000, 500)], next_page_token: 'tok+2' }),
    );
    await screen.findByRole('table');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(router.state.location.search).toBe('?agent=demo&page=tok%2B2'));
    await waitFor(() => expect(runQueries().at(-1)).toBe('agent=demo&limit=50&page_token=tok%2B2'));
    expect(screen.getByRole('button', { name: 'First page' })).toBeInTheDocument();
  });

  it('says how to start a run when there is none', async () => {
    renderApp('/runs', () => json(200, { runs: [], next_page_token: null }));
    expect(await screen.findByRole('heading', { name: 'No runs yet' })).toBeInTheDocument();
    expect(screen.getByText(/try it/)).toBeInTheDocument();
    expect(screen.getByText(/curl -X POST/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Pick an agent to run' })).toHaveAttribute('href', '/agents');
  });

  it('shows the API’s field error next to the agent filter, and other errors in words', async () => {
    renderApp('/runs?agent=Bad%20Name', () =>
      json(422, { error: 'validation_error', detail: [{ field: 'query.agent', message: 'not an agent name' }] }),
    );
    const field = await screen.findByLabelText('Agent');
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
    expect(field).toHaveAccessibleDescription(expect.stringContaining('not an agent name'));
  });

  it('says when Temporal is unavailable', async () => {
    renderApp('/runs', () =>
      json(503, { error: 'temporal_unavailable', detail: 'Temporal did not answer the run list within 5 s' }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('Temporal did not answer the run list within 5 s');
  });
});

describe('withinWindow', () => {
  it('keeps the runs started after the cutoff, and stops paging past a run closed before it', () => {
    const now = Date.now();
    const cutoff = now - 24 * HOUR;
    const page = [run('new', HOUR, null), run('old-running', 30 * HOUR, null), run('closed-old', 40 * HOUR, 30 * HOUR)];
    const kept = withinWindow(page as never, cutoff);
    expect(kept.runs.map((r) => r.run_id)).toEqual(['new']);
    expect(kept.more).toBe(false);
    expect(withinWindow([run('recent', HOUR, HOUR / 2)] as never, cutoff).more).toBe(true);
    expect(withinWindow(page as never, null).runs).toHaveLength(3);
  });
});
