import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { FakeEventSource } from '../test/eventsource';
import { json, type Seen } from '../test/fetch';
import { renderApp } from '../test/render';

const RUN = {
  run_id: 'run-1',
  status: 'running',
  agent: 'demo',
  agent_version: 3,
  stop_reason: null,
  answer: null,
  steps: 1,
  tool_calls: 0,
  usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0 },
  error: null,
  started_at: '2026-12-01T12:00:00Z',
  closed_at: null,
  output: null,
  tool_errors: 0,
  invalid_tool_calls: 0,
  parent_run_id: null,
  pending: [],
  live: true,
  notice: null,
  last_events: null,
  temporal_ui_url: 'http://localhost:8233/namespaces/default/workflows/run-1',
};

const USAGE = { input_tokens: 20, cached_input_tokens: 0, output_tokens: 4, total_tokens: 24, cost_usd: 0.0012 };

function answer(run: Record<string, unknown> = RUN) {
  return (request: Seen) => {
    if (request.method === 'GET' && request.url === '/v1/runs/run-1') return json(200, run);
    if (request.method === 'POST' && request.url === '/v1/runs/run-1/approvals/c1')
      return json(200, { call_id: 'c1', tool: 'refund', decision: 'approved' });
    if (request.method === 'POST' && request.url === '/v1/runs/run-1/input')
      return json(200, { call_id: 'q1', question: 'Which order?' });
    if (request.method === 'POST' && request.url === '/v1/runs/run-1/cancel')
      return json(202, { run_id: 'run-1', status: 'cancelling' });
    return json(404, { error: 'not_found', detail: 'not mocked' });
  };
}

function env(type: string, step: number | null, data: Record<string, unknown>) {
  return { type, run_id: 'run-1', step, time: '2026-12-01T12:00:01+00:00', data };
}

const START = env('run.started', 0, {
  agent: 'demo',
  agent_version: 3,
  model: 'm',
  provider: 'p',
  fallbacks: [],
  input: 'refund order 7',
  limits: { max_steps: 5 },
});

/** The run up to a call waiting for approval (ids 0–3). */
function playUntilApproval(source: FakeEventSource) {
  act(() => {
    source.emit(START, 0);
    source.emit(env('step.started', 1, { model: 'p/m' }), 1);
    source.emit(env('tool.started', 1, { call_id: 'c1', name: 'refund', arguments: { order: 7 } }), 2);
    source.emit(
      env('approval.requested', 1, {
        call_id: 'c1',
        tool: 'refund',
        arguments: { order: 7 },
        timeout_s: 3600,
        cause: 'requires_approval',
      }),
      3,
    );
  });
}

async function openRun(run: Record<string, unknown> = RUN, scope: 'read' | 'run' | 'admin' = 'run') {
  const view = renderApp('/runs/run-1', answer(run), scope);
  await screen.findByRole('heading', { level: 1, name: 'Run run-1' });
  await screen.findByRole('link', { name: 'demo' });
  return { ...view, source: FakeEventSource.last() };
}

describe('the run page', () => {
  it('shows the header and follows the events with token deltas, same origin', async () => {
    const { source } = await openRun();
    expect(source.url).toBe('/v1/runs/run-1/events?include=tokens');
    const facts = document.querySelector('.run-facts') as HTMLElement;
    expect(within(facts).getByText('running')).toBeInTheDocument();
    expect(within(facts).getByText('3')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Open in the Temporal Web UI' })).toHaveAttribute(
      'href',
      'http://localhost:8233/namespaces/default/workflows/run-1',
    );

    act(() => {
      source.emit(START, 0);
      source.emit(env('step.started', 1, { model: 'p/m' }), 1);
      source.emit(env('llm.delta', 1, { text: 'The answer ', attempt: 1 }), 2);
      source.emit(env('llm.delta', 1, { text: 'is', attempt: 1 }), 3);
    });
    expect(screen.getByText('Live: events appear as they happen.')).toBeInTheDocument();
    expect(screen.getByText(/The answer is/)).toBeInTheDocument();
    expect(screen.getByText('streaming…')).toBeInTheDocument();

    act(() => {
      source.emit(
        env('llm.completed', 1, { text: 'The answer is 84.', tool_calls: [], usage: USAGE, model: 'm', provider: 'p' }),
        4,
      );
    });
    expect(screen.getByText('The answer is 84.')).toBeInTheDocument();
    expect(screen.queryByText('streaming…')).not.toBeInTheDocument();
    expect(within(facts).getByText('24 tokens')).toBeInTheDocument();
    expect(within(facts).getByText('$0.0012')).toBeInTheDocument();
  });

  it('approves a waiting call with the call id from the event', async () => {
    const { source, seen } = await openRun();
    playUntilApproval(source);
    expect(screen.getByText(/This run waits for you/)).toBeInTheDocument();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    await screen.findByText('Approved: the run goes on.');
    const sent = seen.filter((r) => r.method === 'POST');
    expect(sent).toEqual([
      expect.objectContaining({
        url: '/v1/runs/run-1/approvals/c1',
        body: { decision: 'approve', reason: '', by: 'tok_test' },
      }),
    ]);
    expect(sent[0]?.headers.get('X-Requested-With')).toBe('orch-web');

    act(() => {
      source.emit(
        env('approval.resolved', 1, { call_id: 'c1', tool: 'refund', decision: 'approved', by: 'tok_test' }),
        4,
      );
    });
    expect(screen.getByText('Approved by tok_test.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Approve' })).not.toBeInTheDocument();
  });

  it('rejects with the reason typed', async () => {
    const { source, seen } = await openRun();
    playUntilApproval(source);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Reason (told to the model if you reject)'), 'not this order');
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(seen.some((r) => r.method === 'POST')).toBe(true));
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({
      decision: 'reject',
      reason: 'not this order',
      by: 'tok_test',
    });
  });

  it('shows a refused approval in words', async () => {
    const view = renderApp('/runs/run-1', (r) =>
      r.method === 'POST' ? json(409, { error: 'conflict', detail: 'no approval of call c1 is pending' }) : answer()(r),
    );
    await screen.findByRole('link', { name: 'demo' });
    playUntilApproval(FakeEventSource.last());
    await userEvent.setup().click(screen.getByRole('button', { name: 'Approve' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('no approval of call c1 is pending');
    view.unmount();
  });

  it('answers an ask-user question from its form', async () => {
    const { source, seen } = await openRun();
    act(() => {
      source.emit(START, 0);
      source.emit(env('step.started', 1, { model: 'p/m' }), 1);
      source.emit(
        env('tool.started', 1, { call_id: 'q1', name: 'ask_user', arguments: { question: 'Which order?' } }),
        2,
      );
      source.emit(env('input.requested', 1, { call_id: 'q1', question: 'Which order?' }), 3);
    });
    expect(screen.getByText('Which order?')).toBeInTheDocument();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Your answer'), 'The blue one');
    await user.click(screen.getByRole('button', { name: 'Send answer' }));
    await screen.findByText('Answer sent: the run goes on.');
    expect(seen.find((r) => r.method === 'POST')).toMatchObject({
      url: '/v1/runs/run-1/input',
      body: { text: 'The blue one', call_id: 'q1' },
    });
    act(() => source.emit(env('input.received', 1, { call_id: 'q1', text: 'The blue one' }), 4));
    expect(screen.getByText('Answered: The blue one')).toBeInTheDocument();
  });

  it('asks before cancelling, then posts the cancel', async () => {
    const { seen } = await openRun();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Cancel run' }));
    expect(seen.some((r) => r.method === 'POST')).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Keep it running' }));
    await user.click(screen.getByRole('button', { name: 'Cancel run' }));
    await user.click(screen.getByRole('button', { name: 'Yes, cancel the run' }));
    await screen.findByText('Cancel requested: the run stops at its next step.');
    expect(seen.filter((r) => r.method === 'POST').map((r) => r.url)).toEqual(['/v1/runs/run-1/cancel']);
  });

  it('offers no cancel, approve or answer to a read token', async () => {
    const { source } = await openRun(RUN, 'read');
    playUntilApproval(source);
    expect(screen.queryByRole('button', { name: 'Cancel run' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Approve' })).not.toBeInTheDocument();
    expect(screen.getByText('A run-scope token may decide.')).toBeInTheDocument();
  });

  it('closes the stream after the terminal event and reads the run again', async () => {
    const { source, seen } = await openRun();
    act(() => {
      source.emit(START, 0);
      source.emit(env('run.completed', 0, { answer: 'All done.', stop_reason: 'answer', steps: 1, usage: USAGE }), 1);
    });
    expect(source.readyState).toBe(2);
    expect(screen.getByText('All done.')).toBeInTheDocument();
    expect(screen.getByText('The run has ended: its whole timeline is shown.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel run' })).not.toBeInTheDocument();
    await waitFor(() => expect(seen.filter((r) => r.url === '/v1/runs/run-1')).toHaveLength(2));
  });

  it('resumes after a dropped connection without showing an event twice', async () => {
    const { source } = await openRun();
    playUntilApproval(source);
    act(() => source.fail(true));
    expect(screen.getByText(/reconnecting/)).toBeInTheDocument();
    // the browser reconnects by itself; a server that replays what was already sent changes nothing
    playUntilApproval(source);
    expect(screen.getAllByRole('button', { name: 'Approve' })).toHaveLength(1);
    expect(screen.getAllByText(/Waiting for approval/)).toHaveLength(1);
  });

  it('says when the stream cannot be opened, and tries again from the last event', async () => {
    const { source } = await openRun();
    playUntilApproval(source);
    act(() => source.fail(false));
    expect(screen.getByRole('alert')).toHaveTextContent('The run’s events could not be read');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    const again = FakeEventSource.last();
    expect(again).not.toBe(source);
    expect(again.url).toBe('/v1/runs/run-1/events?include=tokens&from=3');
  });

  it('nests a sub-agent run under its call, with a link to it', async () => {
    const { source } = await openRun();
    act(() => {
      source.emit(START, 0);
      source.emit(env('step.started', 1, { model: 'p/m' }), 1);
      source.emit(env('tool.started', 1, { call_id: 'a1', name: 'helper', arguments: { input: 'x' } }), 2);
      source.emit(env('subagent.started', 1, { call_id: 'a1', run_id: 'run-child', agent: 'helper', input: 'x' }), 3);
      source.emit(
        env('subagent.event', 1, {
          call_id: 'a1',
          run_id: 'run-child',
          event: { type: 'run.started', step: 0, data: { agent: 'helper', provider: 'p', model: 'm', input: 'x' } },
        }),
        4,
      );
    });
    expect(screen.getByRole('link', { name: 'Open run run-child' })).toHaveAttribute('href', '/runs/run-child');
    expect(screen.getByText(/Started helper/)).toBeInTheDocument();
  });

  it('says so when there is no such run', async () => {
    renderApp('/runs/run-1', () => json(404, { error: 'not_found', detail: 'no run run-1' }));
    expect(await screen.findByRole('heading', { name: 'There is no such run' })).toBeInTheDocument();
  });
});
