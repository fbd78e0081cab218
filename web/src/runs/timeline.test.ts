import { describe, expect, it } from 'vitest';

import {
  applyEvent,
  buildTimeline,
  EMPTY_TIMELINE,
  parseEvent,
  usageSoFar,
  waitingOn,
  type RunEvent,
  type Step,
} from './timeline';

const RUN = 'run-1';
const USAGE = { input_tokens: 20, cached_input_tokens: 0, output_tokens: 4, total_tokens: 24, cost_usd: 0.001 };

function ev(id: number | null, type: string, step: number | null, data: Record<string, unknown> = {}): RunEvent {
  return { id, type, run_id: RUN, step, time: '2026-12-01T12:00:00+00:00', data };
}

const started = ev(0, 'run.started', 0, {
  agent: 'demo',
  agent_version: 2,
  model: 'scripted-demo',
  provider: 'offline',
  fallbacks: ['backup/m2'],
  input: '12*7?',
  limits: { max_steps: 5, max_total_tokens: null, max_cost_usd: 0.5, max_duration_s: null },
});

/** The demo run of docs/api.md: a calculator call, then the answer. */
const DEMO: RunEvent[] = [
  started,
  ev(1, 'step.started', 1, { seq: 1, model: 'offline/scripted-demo' }),
  ev(2, 'llm.completed', 1, {
    text: '',
    tool_calls: [{ id: 'call_0_0', name: 'calculator', arguments: { expression: '12*7' } }],
    usage: USAGE,
    model: 'scripted-demo',
    provider: 'offline',
  }),
  ev(3, 'tool.started', 1, { call_id: 'call_0_0', name: 'calculator', arguments: { expression: '12*7' } }),
  ev(4, 'tool.completed', 1, {
    call_id: 'call_0_0',
    name: 'calculator',
    arguments: { expression: '12*7' },
    ok: true,
    result: '84',
    truncated: false,
    error: null,
    error_type: null,
  }),
  ev(5, 'step.started', 2, { seq: 3, model: 'offline/scripted-demo' }),
  ev(6, 'llm.completed', 2, {
    text: 'The answer is 84.',
    tool_calls: [],
    usage: USAGE,
    model: 'scripted-demo',
    provider: 'offline',
  }),
  ev(7, 'run.completed', 2, {
    answer: 'The answer is 84.',
    output: null,
    stop_reason: 'answer',
    steps: 2,
    tool_calls: 1,
    usage: { ...USAGE, total_tokens: 48, cost_usd: 0.002 },
  }),
];

function step(t: ReturnType<typeof buildTimeline>, n: number): Step {
  const found = t.steps.find((s) => s.step === n);
  if (!found) throw new Error(`no step ${n}`);
  return found;
}

describe('buildTimeline', () => {
  it('reads the start, the steps with model and usage, the tool call and the answer', () => {
    const t = buildTimeline(DEMO);
    expect(t.run).toMatchObject({ agent: 'demo', agent_version: 2, provider: 'offline', input: '12*7?' });
    expect(t.run?.limits).toEqual({ max_steps: 5, max_total_tokens: null, max_cost_usd: 0.5, max_duration_s: null });
    expect(t.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(step(t, 1)).toMatchObject({
      model: 'offline/scripted-demo',
      answered_by: 'offline/scripted-demo',
      completed: true,
    });
    expect(step(t, 1).usage).toEqual(USAGE);
    expect(step(t, 1).calls).toEqual([
      expect.objectContaining({
        call_id: 'call_0_0',
        name: 'calculator',
        arguments: { expression: '12*7' },
        state: 'done',
        ok: true,
        result: '84',
      }),
    ]);
    expect(step(t, 2).text).toBe('The answer is 84.');
    expect(t.end).toMatchObject({ kind: 'completed', answer: 'The answer is 84.', steps: 2, tool_calls: 1 });
    expect(usageSoFar(t)?.total_tokens).toBe(48);
    expect(t.lastId).toBe(7);
    expect(t.count).toBe(8);
  });

  it('joins llm.delta fragments, then replaces them with the completed text', () => {
    let t = buildTimeline([started, ev(1, 'step.started', 1, { model: 'p/m' })]);
    t = applyEvent(t, ev(2, 'llm.delta', 1, { text: 'The ans', attempt: 1 }));
    t = applyEvent(t, ev(3, 'llm.delta', 1, { text: 'wer is', attempt: 1 }));
    expect(step(t, 1)).toMatchObject({ text: 'The answer is', streaming: true, completed: false });
    t = applyEvent(t, ev(4, 'llm.completed', 1, { text: 'The answer is 84.', tool_calls: [], usage: USAGE }));
    expect(step(t, 1)).toMatchObject({ text: 'The answer is 84.', streaming: false, completed: true });
    // a delta batch that arrives late does not change the completed text
    t = applyEvent(t, ev(5, 'llm.delta', 1, { text: ' late', attempt: 1 }));
    expect(step(t, 1).text).toBe('The answer is 84.');
  });

  it('starts the text again when a retried call streams it again', () => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1, { model: 'p/m' }),
      ev(2, 'llm.delta', 1, { text: 'Hel', attempt: 1 }),
      ev(3, 'llm.delta', 1, { text: 'Hello', attempt: 2 }),
    ]);
    expect(step(t, 1).text).toBe('Hello');
  });

  it('shows a failover and moves the step to the next model', () => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1, { model: 'main/m1' }),
      ev(2, 'llm.delta', 1, { text: 'partial', attempt: 1 }),
      ev(3, 'llm.failover', 1, {
        from: 'main/m1',
        to: 'backup/m2',
        error: 'overloaded',
        error_type: 'ProviderUnavailable',
      }),
    ]);
    expect(step(t, 1).failovers).toEqual([
      { from: 'main/m1', to: 'backup/m2', error: 'overloaded', error_type: 'ProviderUnavailable' },
    ]);
    expect(step(t, 1)).toMatchObject({ model: 'backup/m2', text: '', streaming: false });
  });

  it('shows a retry of the model call until the model answers', () => {
    const retrying = ev(2, 'llm.retrying', 1, {
      attempt: 2,
      error: "openai provider 'main' (model m1) answered 503",
      error_type: 'ProviderUnavailable',
      retry_in_s: 1,
    });
    const waiting = buildTimeline([started, ev(1, 'step.started', 1, { model: 'main/m1' }), retrying]);
    expect(step(waiting, 1).retry).toEqual({
      attempt: 2,
      error: "openai provider 'main' (model m1) answered 503",
      error_type: 'ProviderUnavailable',
      retry_in_s: 1,
    });
    const answered = buildTimeline([
      started,
      ev(1, 'step.started', 1, { model: 'main/m1' }),
      retrying,
      ev(3, 'llm.completed', 1, { text: 'four', tool_calls: [], usage: {}, model: 'm1', provider: 'main' }),
    ]);
    expect(step(answered, 1)).toMatchObject({ retry: null, text: 'four', completed: true });
  });

  it('keeps an invalid output and its repair number', () => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'output.invalid', 1, { errors: ['x'], repair: 1 }),
    ]);
    expect(step(t, 1).invalid_output).toEqual([{ errors: ['x'], repair: 1 }]);
  });

  it('shows a failed tool call with its error type', () => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'tool.started', 1, { call_id: 'c1', name: 'http', arguments: { url: 'x' } }),
      ev(3, 'tool.completed', 1, {
        call_id: 'c1',
        name: 'http',
        ok: false,
        result: 'boom',
        error: 'connection refused',
        error_type: 'tool_error',
      }),
    ]);
    expect(step(t, 1).calls[0]).toMatchObject({
      state: 'done',
      ok: false,
      error: 'connection refused',
      error_type: 'tool_error',
    });
  });

  it('tracks an approval from waiting to its decision', () => {
    const asked = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'tool.started', 1, { call_id: 'c1', name: 'refund', arguments: { amount: 5 } }),
      ev(3, 'approval.requested', 1, {
        call_id: 'c1',
        tool: 'refund',
        arguments: { amount: 5 },
        timeout_s: 3600,
        cause: 'requires_approval',
      }),
    ]);
    expect(step(asked, 1).calls[0]?.approval).toMatchObject({
      state: 'waiting',
      timeout_s: 3600,
      cause: 'requires_approval',
    });
    expect(waitingOn(asked).approvals.map((c) => c.call_id)).toEqual(['c1']);

    const decided = applyEvent(
      asked,
      ev(4, 'approval.resolved', 1, {
        call_id: 'c1',
        tool: 'refund',
        decision: 'rejected',
        reason: 'too much',
        by: 'ops',
      }),
    );
    expect(step(decided, 1).calls[0]?.approval).toMatchObject({ state: 'rejected', reason: 'too much', by: 'ops' });
    expect(waitingOn(decided).approvals).toEqual([]);
  });

  it('tracks an ask-user question and its answer', () => {
    const asked = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'tool.started', 1, { call_id: 'q1', name: 'ask_user', arguments: { question: 'Which order?' } }),
      ev(3, 'input.requested', 1, { call_id: 'q1', question: 'Which order?' }),
    ]);
    expect(waitingOn(asked).questions.map((c) => c.call_id)).toEqual(['q1']);
    const answered = applyEvent(asked, ev(4, 'input.received', 1, { call_id: 'q1', text: 'The blue one' }));
    expect(step(answered, 1).calls[0]?.question).toEqual({ question: 'Which order?', answer: 'The blue one' });
    expect(waitingOn(answered).questions).toEqual([]);
  });

  it('nests a sub-agent run under the call that started it, grandchildren too', () => {
    const childStart = {
      type: 'run.started',
      run_id: 'run-child',
      step: 0,
      time: null,
      data: { agent: 'helper', input: 'sub' },
    };
    const grand = {
      type: 'subagent.started',
      run_id: 'run-child',
      step: 1,
      data: { call_id: 'g1', run_id: 'run-grand', agent: 'leaf', tool: 'leaf' },
    };
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'tool.started', 1, { call_id: 'a1', name: 'helper', arguments: { input: 'sub' } }),
      ev(3, 'subagent.started', 1, {
        call_id: 'a1',
        tool: 'helper',
        run_id: 'run-child',
        agent: 'helper',
        agent_version: 1,
        input: 'sub',
      }),
      ev(4, 'subagent.event', 1, { call_id: 'a1', run_id: 'run-child', event: childStart }),
      ev(5, 'subagent.event', 1, {
        call_id: 'a1',
        run_id: 'run-child',
        event: { type: 'step.started', step: 1, data: { model: 'p/m' } },
      }),
      ev(6, 'subagent.event', 1, { call_id: 'a1', run_id: 'run-child', event: grand }),
      ev(7, 'subagent.event', 1, {
        call_id: 'a1',
        run_id: 'run-child',
        event: { type: 'run.completed', step: 1, data: { answer: 'done below', usage: USAGE } },
      }),
      ev(8, 'subagent.completed', 1, {
        call_id: 'a1',
        run_id: 'run-child',
        agent: 'helper',
        status: 'completed',
        stop_reason: 'answer',
        answer: 'done below',
        usage: USAGE,
      }),
    ]);
    const sub = step(t, 1).calls[0]?.subrun;
    expect(sub).toMatchObject({ run_id: 'run-child', agent: 'helper', state: 'completed', answer: 'done below' });
    expect(sub?.timeline.run?.agent).toBe('helper');
    expect(sub?.timeline.steps[0]?.calls[0]?.subrun).toMatchObject({ run_id: 'run-grand', agent: 'leaf' });
    expect(sub?.timeline.end).toMatchObject({ kind: 'completed', answer: 'done below' });
    // the parent has not ended: a child's terminal event does not end it
    expect(t.end).toBeNull();
    expect(usageSoFar(t)?.total_tokens).toBe(24);
  });

  it('marks a failed sub-agent run with its error', () => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'subagent.started', 1, { call_id: 'a1', run_id: 'run-child', agent: 'helper' }),
      ev(3, 'subagent.failed', 1, {
        call_id: 'a1',
        run_id: 'run-child',
        agent: 'helper',
        error: 'no key',
        error_type: 'MissingApiKey',
      }),
    ]);
    expect(step(t, 1).calls[0]?.subrun).toMatchObject({
      state: 'failed',
      error: 'no key',
      error_type: 'MissingApiKey',
    });
  });

  it.each([
    [
      'run.stopped',
      { answer: 'partial', stop_reason: 'budget_tokens', steps: 3 },
      { kind: 'stopped', stop_reason: 'budget_tokens', answer: 'partial' },
    ],
    [
      'run.failed',
      { error: "provider 'openai' needs env var OPENAI_API_KEY", error_type: 'MissingApiKey' },
      { kind: 'failed', error_type: 'MissingApiKey' },
    ],
    ['run.cancelled', { answer: 'so far', steps: 1 }, { kind: 'cancelled', answer: 'so far' }],
  ])('ends on %s', (type, data, end) => {
    const t = buildTimeline([
      started,
      ev(1, 'step.started', 1),
      ev(2, 'llm.delta', 1, { text: 'x' }),
      ev(3, type, 1, data),
    ]);
    expect(t.end).toMatchObject(end);
    expect(step(t, 1).streaming).toBe(false);
    expect(waitingOn(t)).toEqual({ approvals: [], questions: [] });
  });
});

describe('resume without duplicates', () => {
  it('drops events at or before the last offset: a reconnection replaying them changes nothing', () => {
    const first = buildTimeline(DEMO.slice(0, 5));
    // the stream dropped after id 4; the EventSource reconnects and the API replays from 0
    const resumed = DEMO.reduce(applyEvent, first);
    expect(resumed).toEqual(buildTimeline(DEMO));
    expect(step(resumed, 1).calls).toHaveLength(1);
    expect(resumed.count).toBe(DEMO.length);
  });

  it('gives back the same timeline for a duplicate', () => {
    const t = buildTimeline(DEMO.slice(0, 3));
    expect(applyEvent(t, DEMO[1] as RunEvent)).toBe(t);
  });

  it('applies the API’s added terminal event (no id) once, however often it is sent', () => {
    const closed = ev(null, 'run.failed', null, {
      error: 'the run was terminated outside the agent loop',
      error_type: 'terminated',
    });
    const t = buildTimeline([started, closed, started, closed]);
    expect(t.end).toMatchObject({ kind: 'failed', error_type: 'terminated' });
    expect(t.count).toBe(2);
    expect(t.lastId).toBe(0);
  });

  it('does not join a delta twice', () => {
    const delta = ev(2, 'llm.delta', 1, { text: 'abc', attempt: 1 });
    const t = buildTimeline([started, ev(1, 'step.started', 1), delta, delta]);
    expect(step(t, 1).text).toBe('abc');
  });
});

describe('stream notices', () => {
  it('shows stream.unavailable until the next event, and stream.error', () => {
    let t = applyEvent(
      EMPTY_TIMELINE,
      ev(null, 'stream.unavailable', null, { notice: 'no worker polls the task queue' }),
    );
    expect(t.notice).toBe('no worker polls the task queue');
    t = applyEvent(t, started);
    expect(t.notice).toBeNull();
    t = applyEvent(t, ev(null, 'stream.error', null, { error: 'event stream broke off: x' }));
    expect(t.streamError).toBe('event stream broke off: x');
  });
});

describe('parseEvent', () => {
  it('reads an envelope and refuses what is not one', () => {
    expect(parseEvent('{"type":"step.started","step":1,"data":{"model":"p/m"}}', 3)).toMatchObject({
      id: 3,
      type: 'step.started',
      step: 1,
      data: { model: 'p/m' },
    });
    expect(parseEvent('not json', 1)).toBeNull();
    expect(parseEvent('{"no":"type"}', 1)).toBeNull();
  });
});
