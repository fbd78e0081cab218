/**
 * A run's timeline from its events (docs/events.md), as a pure function: events in → model out.
 *
 *   const timeline = buildTimeline(events);            // a finished run's stored events
 *   state = applyEvent(state, event);                   // one more event off the live stream
 *
 * `applyEvent` drops an event it has already applied: an event with an offset (the SSE `id:`)
 * at or before the last one seen, and a second terminal event (the API's added terminal event
 * has no offset and is sent again to a reader that reconnects). So a stream that reconnects and
 * replays never shows an event twice.
 */

/** One event of the run's stream: the envelope, with the SSE `id:` (offset) when it has one. */
export interface RunEvent {
  /** The SSE `id:` (the stream offset); null for the messages that have none. */
  id: number | null;
  type: string;
  run_id?: string;
  step: number | null;
  time: string | null;
  data: Record<string, unknown>;
}

export interface Usage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export interface Limits {
  max_steps: number | null;
  max_total_tokens: number | null;
  max_cost_usd: number | null;
  max_duration_s: number | null;
}

export interface RunInfo {
  agent: string;
  agent_version: number | null;
  model: string;
  provider: string;
  fallbacks: string[];
  input: string;
  limits: Limits;
  time: string | null;
}

export interface Failover {
  from: string;
  to: string;
  error: string;
  error_type: string;
}

/** `llm.retrying`: the step's model call failed and is tried again (attempt, in about `retry_in_s`). */
export interface Retry {
  attempt: number | null;
  error: string;
  error_type: string;
  retry_in_s: number | null;
}

export interface Approval {
  state: 'waiting' | 'approved' | 'rejected' | 'expired';
  cause: string;
  timeout_s: number | null;
  reason: string;
  by: string;
}

export interface Question {
  question: string;
  /** The answer, once a person gave one. */
  answer: string | null;
}

export interface SubRun {
  run_id: string;
  agent: string;
  agent_version: number | null;
  input: string;
  state: 'running' | 'completed' | 'stopped' | 'failed';
  stop_reason: string | null;
  answer: string | null;
  error: string | null;
  error_type: string | null;
  usage: Usage | null;
  /** The child's own timeline, from the `subagent.event`s relayed on this stream. */
  timeline: Timeline;
}

export interface ToolCall {
  call_id: string;
  name: string;
  arguments: unknown;
  /** requested: the model asked for it; running: tool.started; done: tool.completed. */
  state: 'requested' | 'running' | 'done';
  ok: boolean | null;
  result: string | null;
  truncated: boolean;
  error: string | null;
  error_type: string | null;
  approval: Approval | null;
  question: Question | null;
  subrun: SubRun | null;
}

export interface Step {
  step: number;
  /** `provider/model` the step started on, then the one a failover moved to. */
  model: string;
  /** The model as the provider named it and the provider that answered (llm.completed). */
  answered_by: string | null;
  failovers: Failover[];
  /** The last retry announced, until the model answers. */
  retry: Retry | null;
  /** The streaming text (llm.delta joined), replaced by the complete text on llm.completed. */
  text: string;
  streaming: boolean;
  /** The attempt the streamed text belongs to: a retried call streams its text again. */
  attempt: number | null;
  completed: boolean;
  usage: Usage | null;
  invalid_output: { errors: unknown; repair: number }[];
  calls: ToolCall[];
}

export type EndKind = 'completed' | 'stopped' | 'failed' | 'cancelled';

export interface RunEnd {
  kind: EndKind;
  answer: string | null;
  output: unknown;
  stop_reason: string | null;
  error: string | null;
  error_type: string | null;
  steps: number | null;
  tool_calls: number | null;
  usage: Usage | null;
  time: string | null;
}

export interface Timeline {
  /** The offset of the last event applied (null before any). */
  lastId: number | null;
  /** Events applied (duplicates not counted). */
  count: number;
  run: RunInfo | null;
  steps: Step[];
  end: RunEnd | null;
  /** `stream.unavailable`: why the live stream is not flowing (no worker); cleared by the next event. */
  notice: string | null;
  /** `stream.error`: the API lost the run's stream. */
  streamError: string | null;
}

export const TERMINAL: Record<string, EndKind> = {
  'run.completed': 'completed',
  'run.stopped': 'stopped',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
};

/** Every event type the stream sends (an EventSource needs a listener per `event:` name). */
export const EVENT_TYPES = [
  'run.started',
  'step.started',
  'llm.delta',
  'llm.retrying',
  'llm.failover',
  'llm.completed',
  'output.invalid',
  'tool.started',
  'approval.requested',
  'approval.resolved',
  'input.requested',
  'input.received',
  'tool.completed',
  'subagent.started',
  'subagent.event',
  'subagent.completed',
  'subagent.failed',
  'run.completed',
  'run.stopped',
  'run.failed',
  'run.cancelled',
  'stream.unavailable',
  'stream.error',
] as const;

export const EMPTY_TIMELINE: Timeline = {
  lastId: null,
  count: 0,
  run: null,
  steps: [],
  end: null,
  notice: null,
  streamError: null,
};

// ---- reading payloads: the data is JSON from the wire, so every field is checked ----------

type Data = Record<string, unknown>;

function str(data: Data, key: string): string {
  const value = data[key];
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function strOrNull(data: Data, key: string): string | null {
  const value = data[key];
  return typeof value === 'string' ? value : null;
}

function num(data: Data, key: string): number | null {
  const value = data[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function obj(value: unknown): Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : {};
}

export function usageOf(value: unknown): Usage | null {
  if (typeof value !== 'object' || value === null) return null;
  const data = value as Data;
  return {
    input_tokens: num(data, 'input_tokens') ?? 0,
    cached_input_tokens: num(data, 'cached_input_tokens') ?? 0,
    output_tokens: num(data, 'output_tokens') ?? 0,
    total_tokens: num(data, 'total_tokens') ?? 0,
    cost_usd: num(data, 'cost_usd') ?? 0,
  };
}

export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (a === null) return b;
  if (b === null) return a;
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    cost_usd: a.cost_usd + b.cost_usd,
  };
}

/** A message's envelope from its SSE `data:` JSON; null when it is not one. */
export function parseEvent(json: string, id: number | null): RunEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  return envelope(parsed, id);
}

function envelope(value: unknown, id: number | null): RunEvent | null {
  const data = obj(value);
  if (typeof data.type !== 'string') return null;
  const step = num(data, 'step');
  return {
    id,
    type: data.type,
    ...(typeof data.run_id === 'string' ? { run_id: data.run_id } : {}),
    step,
    time: strOrNull(data, 'time'),
    data: obj(data.data),
  };
}

// ---- the reducer ----------------------------------------------------------------------------

function newStep(step: number, model = ''): Step {
  return {
    step,
    model,
    answered_by: null,
    failovers: [],
    retry: null,
    text: '',
    streaming: false,
    attempt: null,
    completed: false,
    usage: null,
    invalid_output: [],
    calls: [],
  };
}

function newCall(call_id: string, name: string, args: unknown): ToolCall {
  return {
    call_id,
    name,
    arguments: args,
    state: 'requested',
    ok: null,
    result: null,
    truncated: false,
    error: null,
    error_type: null,
    approval: null,
    question: null,
    subrun: null,
  };
}

/** The step `n` changed by `change` (created first when its step.started was not seen). */
function withStep(t: Timeline, n: number, change: (step: Step) => Step): Timeline {
  const at = t.steps.findIndex((s) => s.step === n);
  if (at === -1) {
    const steps = [...t.steps, change(newStep(n))].sort((a, b) => a.step - b.step);
    return { ...t, steps };
  }
  const steps = t.steps.slice();
  steps[at] = change(t.steps[at] as Step);
  return { ...t, steps };
}

/**
 * The call `call_id` changed by `change`: looked up in every step (newest first), else created
 * in the event's step.
 */
function withCall(t: Timeline, ev: RunEvent, call_id: string, change: (call: ToolCall) => ToolCall): Timeline {
  for (let i = t.steps.length - 1; i >= 0; i--) {
    const step = t.steps[i] as Step;
    const at = step.calls.findIndex((c) => c.call_id === call_id);
    if (at !== -1) {
      const calls = step.calls.slice();
      calls[at] = change(step.calls[at] as ToolCall);
      const steps = t.steps.slice();
      steps[i] = { ...step, calls };
      return { ...t, steps };
    }
  }
  const name = str(ev.data, 'name') || str(ev.data, 'tool');
  return withStep(t, ev.step ?? lastStep(t), (step) => ({
    ...step,
    calls: [...step.calls, change(newCall(call_id, name, ev.data.arguments))],
  }));
}

function lastStep(t: Timeline): number {
  return t.steps.length > 0 ? (t.steps[t.steps.length - 1] as Step).step : 0;
}

function withSubrun(t: Timeline, ev: RunEvent, change: (sub: SubRun) => SubRun): Timeline {
  const call_id = str(ev.data, 'call_id');
  return withCall(t, ev, call_id, (call) => {
    const sub: SubRun = call.subrun ?? {
      run_id: str(ev.data, 'run_id'),
      agent: str(ev.data, 'agent'),
      agent_version: null,
      input: '',
      state: 'running',
      stop_reason: null,
      answer: null,
      error: null,
      error_type: null,
      usage: null,
      timeline: EMPTY_TIMELINE,
    };
    return { ...call, subrun: change(sub) };
  });
}

/**
 * The timeline after one more event. An event already applied (its offset at or before the last
 * one) and a second terminal event are dropped: the same timeline comes back (===).
 */
export function applyEvent(t: Timeline, ev: RunEvent): Timeline {
  if (ev.id !== null && t.lastId !== null && ev.id <= t.lastId) return t;
  if (ev.type in TERMINAL && t.end !== null) return t;
  const next = reduce(t, ev);
  return {
    ...next,
    lastId: ev.id ?? t.lastId,
    count: t.count + 1,
    notice: ev.type === 'stream.unavailable' ? next.notice : null,
    streamError: ev.type === 'stream.error' ? next.streamError : null,
  };
}

export function buildTimeline(events: Iterable<RunEvent>): Timeline {
  let t = EMPTY_TIMELINE;
  for (const ev of events) t = applyEvent(t, ev);
  return t;
}

function reduce(t: Timeline, ev: RunEvent): Timeline {
  const d = ev.data;
  switch (ev.type) {
    case 'run.started': {
      const limits = obj(d.limits);
      return {
        ...t,
        run: {
          agent: str(d, 'agent'),
          agent_version: num(d, 'agent_version'),
          model: str(d, 'model'),
          provider: str(d, 'provider'),
          fallbacks: Array.isArray(d.fallbacks) ? d.fallbacks.map(String) : [],
          input: str(d, 'input'),
          limits: {
            max_steps: num(limits, 'max_steps'),
            max_total_tokens: num(limits, 'max_total_tokens'),
            max_cost_usd: num(limits, 'max_cost_usd'),
            max_duration_s: num(limits, 'max_duration_s'),
          },
          time: ev.time,
        },
      };
    }
    case 'step.started':
      return withStep(t, ev.step ?? lastStep(t) + 1, (step) => ({ ...step, model: str(d, 'model') }));
    case 'llm.delta': {
      const attempt = num(d, 'attempt');
      return withStep(t, ev.step ?? lastStep(t), (step) => {
        if (step.completed) return step; // a late batch: the completed text is what counts
        const restart = step.attempt !== null && attempt !== null && attempt !== step.attempt;
        return {
          ...step,
          text: (restart ? '' : step.text) + str(d, 'text'),
          streaming: true,
          attempt: attempt ?? step.attempt,
        };
      });
    }
    case 'llm.retrying':
      return withStep(t, ev.step ?? lastStep(t), (step) =>
        step.completed
          ? step
          : {
              ...step,
              retry: {
                attempt: num(d, 'attempt'),
                error: str(d, 'error'),
                error_type: str(d, 'error_type'),
                retry_in_s: num(d, 'retry_in_s'),
              },
            },
      );
    case 'llm.failover':
      return withStep(t, ev.step ?? lastStep(t), (step) => ({
        ...step,
        model: str(d, 'to') || step.model,
        failovers: [
          ...step.failovers,
          { from: str(d, 'from'), to: str(d, 'to'), error: str(d, 'error'), error_type: str(d, 'error_type') },
        ],
        // the next model streams its own text
        text: step.completed ? step.text : '',
        streaming: false,
        attempt: null,
      }));
    case 'llm.completed': {
      const requested = Array.isArray(d.tool_calls) ? d.tool_calls.map(obj) : [];
      const model = str(d, 'model');
      const provider = str(d, 'provider');
      return withStep(t, ev.step ?? lastStep(t), (step) => {
        const calls = step.calls.slice();
        for (const tc of requested) {
          const id = str(tc, 'id');
          if (!calls.some((c) => c.call_id === id)) calls.push(newCall(id, str(tc, 'name'), tc.arguments));
        }
        return {
          ...step,
          text: str(d, 'text'),
          streaming: false,
          completed: true,
          retry: null,
          usage: usageOf(d.usage),
          answered_by: provider && model ? `${provider}/${model}` : model || provider || null,
          calls,
        };
      });
    }
    case 'output.invalid':
      return withStep(t, ev.step ?? lastStep(t), (step) => ({
        ...step,
        invalid_output: [...step.invalid_output, { errors: d.errors, repair: num(d, 'repair') ?? 0 }],
      }));
    case 'tool.started':
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        name: str(d, 'name') || call.name,
        arguments: d.arguments ?? call.arguments,
        state: call.state === 'done' ? 'done' : 'running',
      }));
    case 'tool.completed':
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        name: str(d, 'name') || call.name,
        arguments: d.arguments ?? call.arguments,
        state: 'done',
        ok: d.ok === true,
        result:
          strOrNull(d, 'result') ?? (d.result === undefined || d.result === null ? null : JSON.stringify(d.result)),
        truncated: d.truncated === true,
        error: strOrNull(d, 'error'),
        error_type: strOrNull(d, 'error_type'),
      }));
    case 'approval.requested':
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        name: call.name || str(d, 'tool'),
        arguments: call.arguments ?? d.arguments,
        approval: {
          state: 'waiting',
          cause: str(d, 'cause') || 'requires_approval',
          timeout_s: num(d, 'timeout_s'),
          reason: '',
          by: '',
        },
      }));
    case 'approval.resolved': {
      const decision = str(d, 'decision');
      const state = decision === 'approved' || decision === 'rejected' || decision === 'expired' ? decision : 'expired';
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        approval: {
          cause: call.approval?.cause ?? (str(d, 'cause') || 'requires_approval'),
          timeout_s: call.approval?.timeout_s ?? null,
          state,
          reason: str(d, 'reason'),
          by: str(d, 'by'),
        },
      }));
    }
    case 'input.requested':
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        name: call.name || 'ask_user',
        question: { question: str(d, 'question'), answer: null },
      }));
    case 'input.received':
      return withCall(t, ev, str(d, 'call_id'), (call) => ({
        ...call,
        question: { question: call.question?.question ?? '', answer: str(d, 'text') },
      }));
    case 'subagent.started':
      return withSubrun(t, ev, (sub) => ({
        ...sub,
        run_id: str(d, 'run_id') || sub.run_id,
        agent: str(d, 'agent') || sub.agent,
        agent_version: num(d, 'agent_version'),
        input: str(d, 'input'),
      }));
    case 'subagent.event': {
      // The child's event, whole: applied to the child's own timeline (its offsets are the
      // child's, so the parent's offset has already kept duplicates out).
      const inner = envelope(d.event, null);
      if (inner === null) return t;
      return withSubrun(t, ev, (sub) => ({ ...sub, timeline: applyEvent(sub.timeline, inner) }));
    }
    case 'subagent.completed':
      return withSubrun(t, ev, (sub) => ({
        ...sub,
        run_id: str(d, 'run_id') || sub.run_id,
        state: str(d, 'status') === 'stopped' ? 'stopped' : 'completed',
        stop_reason: strOrNull(d, 'stop_reason'),
        answer: strOrNull(d, 'answer'),
        usage: usageOf(d.usage),
      }));
    case 'subagent.failed':
      return withSubrun(t, ev, (sub) => ({
        ...sub,
        run_id: str(d, 'run_id') || sub.run_id,
        state: 'failed',
        error: strOrNull(d, 'error'),
        error_type: strOrNull(d, 'error_type'),
        usage: usageOf(d.usage),
      }));
    case 'run.completed':
    case 'run.stopped':
    case 'run.failed':
    case 'run.cancelled':
      return {
        ...t,
        // a step cut off while streaming keeps what it streamed, no longer marked as streaming
        steps: t.steps.map((s) => (s.streaming ? { ...s, streaming: false } : s)),
        end: {
          kind: TERMINAL[ev.type] as EndKind,
          answer: strOrNull(d, 'answer'),
          output: d.output ?? null,
          stop_reason: strOrNull(d, 'stop_reason'),
          error: strOrNull(d, 'error'),
          error_type: strOrNull(d, 'error_type'),
          steps: num(d, 'steps'),
          tool_calls: num(d, 'tool_calls'),
          usage: usageOf(d.usage),
          time: ev.time,
        },
      };
    case 'stream.unavailable':
      return { ...t, notice: str(d, 'notice') || 'The live stream is unavailable: no worker polls the run.' };
    case 'stream.error':
      return { ...t, streamError: str(d, 'error') || 'The event stream broke off.' };
    default:
      return t;
  }
}

// ---- what the page asks of a timeline -------------------------------------------------------

/** What the run waits on a person for: approvals and questions not answered yet. */
export function waitingOn(t: Timeline): { approvals: ToolCall[]; questions: ToolCall[] } {
  const approvals: ToolCall[] = [];
  const questions: ToolCall[] = [];
  if (t.end !== null) return { approvals, questions };
  for (const step of t.steps) {
    for (const call of step.calls) {
      if (call.approval?.state === 'waiting') approvals.push(call);
      if (call.question !== null && call.question.answer === null && call.state !== 'done') questions.push(call);
    }
  }
  return { approvals, questions };
}

/**
 * Tokens and cost so far: the run's total once it ended; until then its model calls' and its
 * ended sub-agents' (which the run adds to its own when they end).
 */
export function usageSoFar(t: Timeline): Usage | null {
  if (t.end?.usage) return t.end.usage;
  let total: Usage | null = null;
  for (const step of t.steps) {
    total = addUsage(total, step.usage);
    for (const call of step.calls) {
      if (call.subrun && call.subrun.state !== 'running') total = addUsage(total, call.subrun.usage);
    }
  }
  return total;
}
