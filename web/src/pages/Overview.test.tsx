import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import type { AgentStatsPage } from '../api/stats';
import { json, type Seen } from '../test/fetch';
import { renderApp } from '../test/render';
import { runsInWords } from './Overview';

const STATS: AgentStatsPage = {
  window: '24h',
  since: '2026-11-30T12:00:00Z',
  agents: [
    {
      agent: 'demo',
      runs: { completed: 3, failed: 1, cancelled: 0, unfinished: 2 },
      duration_ms: { p50: 812.0, p95: 1900.0 },
      total_tokens: 1234,
      cost_usd: 0.012,
    },
    {
      agent: 'idle',
      runs: { completed: 0, failed: 0, unfinished: 0 },
      duration_ms: { p50: null, p95: null },
      total_tokens: 0,
      cost_usd: 0,
    },
    {
      agent: 'waiting',
      runs: { unfinished: 1 },
      duration_ms: { p50: null, p95: null },
      total_tokens: 10,
      cost_usd: 0,
    },
  ],
};

function answer(body: (window: string) => unknown) {
  const windows: string[] = [];
  return {
    windows,
    answer: (request: Seen) => {
      if (request.url !== '/v1/stats/agents') return json(404, { error: 'not_found', detail: 'not mocked' });
      return json(200, body(''));
    },
  };
}

describe('the overview', () => {
  it('shows per agent runs by status, p50/p95, tokens and cost; agents without runs left out', async () => {
    renderApp('/', answer(() => STATS).answer);
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    const demo = within(rows[1] as HTMLElement);
    expect(demo.getByRole('link', { name: 'demo' })).toHaveAttribute('href', '/runs?agent=demo');
    expect(demo.getByText('6')).toBeInTheDocument();
    expect(demo.getByText(/2 unfinished, 3 completed, 1 failed/)).toBeInTheDocument();
    expect(demo.getByRole('link', { name: 'see failed' })).toHaveAttribute('href', '/runs?agent=demo&status=failed');
    expect(demo.getByText('812 ms')).toBeInTheDocument();
    expect(demo.getByText('1.90 s')).toBeInTheDocument();
    expect(demo.getByText('1,234')).toBeInTheDocument();
    expect(demo.getByText('$0.012')).toBeInTheDocument();
    // p50/p95 null: a dash, not a number
    expect(within(rows[2] as HTMLElement).getAllByText('—')).toHaveLength(2);
    expect(screen.queryByRole('link', { name: 'idle' })).not.toBeInTheDocument();
  });

  it('switches the window, kept in the URL, and asks the API for it', async () => {
    const { router, seen } = renderApp('/', answer(() => STATS).answer);
    await screen.findByRole('table');
    expect(screen.getByRole('radio', { name: 'Last day' })).toBeChecked();
    await userEvent.setup().click(screen.getByRole('radio', { name: 'Last week' }));
    await waitFor(() => expect(router.state.location.search).toBe('?window=7d'));
    await waitFor(() => expect(seen.filter((r) => r.url === '/v1/stats/agents')).toHaveLength(2));
    const urls = (globalThis.fetch as unknown as { mock: { calls: [Request][] } }).mock.calls
      .map(([r]) => new URL(r.url))
      .filter((u) => u.pathname === '/v1/stats/agents')
      .map((u) => u.searchParams.get('window'));
    expect(urls).toEqual(['24h', '7d']);
  });

  it('says what to do when there are no runs', async () => {
    renderApp('/?window=1h', answer(() => ({ ...STATS, window: '1h', agents: [STATS.agents[1]] })).answer);
    expect(await screen.findByRole('heading', { name: 'No runs in this window' })).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: 'Last hour' })).toBeChecked();
  });

  it('shows an error in words', async () => {
    renderApp('/', () => json(503, { error: 'temporal_unavailable', detail: 'cannot reach the database' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('cannot reach the database');
  });
});

describe('the overview against an API without the stats route', () => {
  it('says so in words', async () => {
    renderApp('/', () => json(404, { error: 'not_found', detail: 'Not Found' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('it does not answer GET /v1/stats/agents');
  });
});

describe('runsInWords', () => {
  it('lists the statuses with runs, in a fixed order', () => {
    expect(runsInWords({ failed: 1, completed: 2, weird: 1, cancelled: 0 })).toBe('2 completed, 1 failed, 1 weird');
    expect(runsInWords({})).toBe('none');
  });
});
