import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';

import { seriousViolations } from '../test/axe';
import { configAnswer } from '../test/config';
import { FakeEventSource } from '../test/eventsource';
import { json, type Seen } from '../test/fetch';
import { stubLayout } from '../test/flow';
import { renderApp } from '../test/render';
import { SignIn } from './SignIn';

const PAGES = [
  ['/', 'Overview'],
  ['/runs', 'Runs'],
  ['/runs/run-1', 'Run run-1'],
  ['/topology', 'Topology'],
  ['/agents', 'Agents'],
  ['/agents/demo', 'Agent demo'],
  ['/tools', 'Tools'],
  ['/tools/calc', 'Tool calc'],
  ['/providers', 'Providers'],
  ['/routes', 'Routes'],
  ['/mcp-servers', 'MCP servers'],
] as const;

const RUN = {
  run_id: 'run-1',
  status: 'running',
  agent: 'demo',
  agent_version: 1,
  steps: 1,
  tool_calls: 0,
  tool_errors: 0,
  invalid_tool_calls: 0,
  usage: {},
  started_at: '2026-12-01T12:00:00Z',
  closed_at: null,
  live: true,
};

function answerWith(body: unknown) {
  return (_request: Seen) => json(200, body);
}

const RUNS_PAGES = [
  ['/runs', 'Runs', answerWith({ runs: [{ ...RUN, parent_run_id: 'run-0', agent: 'demo' }], next_page_token: 'next' })],
  ['/runs/run-1', 'Run run-1', answerWith(RUN)],
  [
    '/',
    'Overview',
    answerWith({
      window: '24h',
      since: '2026-11-30T12:00:00Z',
      agents: [
        {
          agent: 'demo',
          runs: { completed: 1, failed: 1 },
          duration_ms: { p50: 10, p95: null },
          total_tokens: 5,
          cost_usd: 0,
        },
      ],
    }),
  ],
] as const;

/** A run with each kind of item: a streamed step, a tool call waiting for approval, a question, a sub-agent. */
function playRun(source: FakeEventSource) {
  const env = (type: string, step: number, data: Record<string, unknown>) => ({ type, step, time: null, data });
  act(() => {
    source.emit(env('run.started', 0, { agent: 'demo', provider: 'p', model: 'm', input: 'hi', limits: {} }), 0);
    source.emit(env('step.started', 1, { model: 'p/m' }), 1);
    source.emit(env('llm.delta', 1, { text: 'Thinking', attempt: 1 }), 2);
    source.emit(env('llm.failover', 1, { from: 'p/m', to: 'q/n', error: 'overloaded', error_type: 'X' }), 3);
    source.emit(env('tool.started', 1, { call_id: 'c1', name: 'refund', arguments: { order: 7 } }), 4);
    source.emit(env('approval.requested', 1, { call_id: 'c1', tool: 'refund', timeout_s: 60 }), 5);
    source.emit(env('input.requested', 1, { call_id: 'q1', question: 'Which?' }), 6);
    source.emit(env('subagent.started', 1, { call_id: 'a1', run_id: 'run-2', agent: 'helper' }), 7);
    source.emit(
      env('tool.completed', 1, { call_id: 'c9', name: 'http', ok: false, error: 'refused', error_type: 'tool_error' }),
      8,
    );
  });
}

describe('axe-core: no serious or critical violations', () => {
  it.each(PAGES)('%s', async (path, title) => {
    const { unmount } = renderApp(path);
    await screen.findByRole('heading', { level: 1, name: title });
    expect(await seriousViolations(document.body)).toEqual([]);
    unmount();
  });

  // The runs pages with something on them (above: their error and empty states).
  it.each(RUNS_PAGES)('%s with data', async (path, title, answer) => {
    const { unmount } = renderApp(path, answer);
    await screen.findByRole('heading', { level: 1, name: title });
    if (path.startsWith('/runs/')) {
      await screen.findByRole('link', { name: 'demo' });
      playRun(FakeEventSource.last());
      await screen.findByRole('button', { name: 'Approve' });
    } else {
      await screen.findByRole('table');
    }
    expect(await seriousViolations(document.body)).toEqual([]);
    unmount();
  });

  it('/sign-in', async () => {
    render(
      <RouterProvider
        router={createMemoryRouter([{ path: '/sign-in', element: <SignIn /> }], { initialEntries: ['/sign-in'] })}
      />,
    );
    await screen.findByRole('heading', { level: 1, name: 'Sign in to orch' });
    expect(await seriousViolations(document.body)).toEqual([]);
  });
});

// The configuration pages with something to show (lists, detail, versions, diff, graph), then
// with a form open: [path, title, what shows once loaded, the button that opens a form, the form].
const CONFIG_PAGES = [
  ['/agents', 'Agents', 'table', 'New agent', 'New agent'],
  ['/agents/demo', 'Agent demo', 'table', 'Edit', 'Edit agent demo'],
  ['/tools', 'Tools', 'table', 'New tool', 'New tool'],
  ['/tools/calculator', 'Tool calculator', 'region', 'Edit', 'Edit tool calculator'],
  ['/providers', 'Providers', 'list', 'New provider', 'New provider'],
  ['/routes', 'Routes', 'list', 'Try support', 'Try it'],
  ['/mcp-servers', 'MCP servers', 'list', 'New MCP server', 'New MCP server'],
  ['/topology', 'Topology', 'region', null, null],
] as const;

describe('axe-core, with a configuration: no serious or critical violations', () => {
  it.each(CONFIG_PAGES)('%s', async (path, title, loaded, opener, form) => {
    stubLayout();
    const { unmount } = renderApp(path, configAnswer);
    await screen.findByRole('heading', { level: 1, name: title });
    await screen.findAllByRole(loaded);
    expect(await seriousViolations(document.body)).toEqual([]);
    if (opener && form) {
      await userEvent.setup().click(await screen.findByRole('button', { name: opener }));
      await screen.findByRole(form === 'Try it' ? 'region' : 'form', { name: form });
      expect(await seriousViolations(document.body)).toEqual([]);
    }
    unmount();
  });
});
