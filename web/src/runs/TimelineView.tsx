import { memo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';

import { api, ApiError, call } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { formatCost, formatTime, formatTokens, formatValue } from './format';
import type { RunEnd, Step, SubRun, Timeline, ToolCall, Usage } from './timeline';

/** What the timeline needs to answer approvals and questions (null: this session may not). */
export interface Steering {
  runId: string;
  /** Who decided, for the record (the session's token id). */
  by: string;
}

const STOP_REASONS: Record<string, string> = {
  answer: 'the model answered',
  max_steps: 'the step limit was reached',
  budget_tokens: 'the token budget was spent',
  budget_cost: 'the cost budget was spent',
  deadline: 'the deadline passed',
  cancelled: 'it was cancelled',
  error: 'an error',
};

export function stopReasonWords(reason: string | null | undefined): string {
  if (!reason) return '';
  return STOP_REASONS[reason] ?? reason;
}

function UsageLine({ usage }: { usage: Usage | null }) {
  if (usage === null) return null;
  return (
    <span className="usage">
      {formatTokens(usage.total_tokens)} ({usage.input_tokens} in
      {usage.cached_input_tokens ? `, ${usage.cached_input_tokens} cached` : ''}, {usage.output_tokens} out) ·{' '}
      {formatCost(usage.cost_usd)}
    </span>
  );
}

function Pre({ label, value }: { label: string; value: unknown }) {
  const text = formatValue(value);
  if (text === '' || text === '{}') return null;
  return (
    <div className="kv">
      <span className="kv-label">{label}</span>
      <pre className="code">{text}</pre>
    </div>
  );
}

/** The timeline of a run: its start, each step (model, text, tool calls), its end. */
export function TimelineView({
  timeline,
  steering,
  depth = 0,
}: {
  timeline: Timeline;
  steering: Steering | null;
  depth?: number;
}) {
  const { run, steps, end } = timeline;
  return (
    <ol className="timeline">
      {run ? (
        <li className="tl-item tl-start">
          <h3 className="tl-title">
            Started {run.agent}
            {run.agent_version !== null ? ` v${run.agent_version}` : ''} on {run.provider}/{run.model}
          </h3>
          <p className="tl-meta">
            {formatTime(run.time)}
            {run.fallbacks.length > 0 ? ` · fallbacks: ${run.fallbacks.join(', ')}` : ''}
            {limitsWords(run.limits)}
          </p>
          <Pre label="Input" value={run.input} />
        </li>
      ) : null}
      {steps.map((step) => (
        <StepView key={step.step} step={step} steering={steering} depth={depth} />
      ))}
      {end ? <EndView end={end} /> : null}
    </ol>
  );
}

function limitsWords(limits: NonNullable<Timeline['run']>['limits']): string {
  const parts: string[] = [];
  if (limits.max_steps !== null) parts.push(`${limits.max_steps} steps`);
  if (limits.max_total_tokens !== null) parts.push(formatTokens(limits.max_total_tokens));
  if (limits.max_cost_usd !== null) parts.push(formatCost(limits.max_cost_usd));
  if (limits.max_duration_s !== null) parts.push(`${limits.max_duration_s} s`);
  return parts.length > 0 ? ` · limits: ${parts.join(', ')}` : '';
}

/** A step re-renders only when it changed: `applyEvent` keeps the other steps as they were (===). */
const StepView = memo(function StepView({
  step,
  steering,
  depth,
}: {
  step: Step;
  steering: Steering | null;
  depth: number;
}) {
  return (
    <li className="tl-item tl-step">
      <h3 className="tl-title">
        Step {step.step}
        <span className="tl-model"> · {step.answered_by ?? step.model}</span>
      </h3>
      <p className="tl-meta">
        {step.completed ? <UsageLine usage={step.usage} /> : step.streaming ? 'streaming…' : 'waiting for the model…'}
      </p>
      {step.retry ? (
        <p className="tl-warn">
          <strong>Retrying:</strong> {step.retry.error}
          {step.retry.retry_in_s !== null
            ? `; attempt ${step.retry.attempt ?? '?'} in ${step.retry.retry_in_s.toFixed(1)} s`
            : ''}
          .
        </p>
      ) : null}
      {step.failovers.map((f, i) => (
        <p key={i} className="tl-warn">
          <strong>Failover:</strong> {f.from} failed ({f.error_type}: {f.error}); moved to {f.to}.
        </p>
      ))}
      {step.text ? (
        <div className={step.streaming ? 'tl-text tl-streaming' : 'tl-text'}>
          <span className="sr-only">{step.streaming ? 'Text so far: ' : 'Text: '}</span>
          {step.text}
        </div>
      ) : null}
      {step.invalid_output.map((inv) => (
        <div key={inv.repair} className="tl-warn">
          <strong>Answer broke the output schema</strong> (repair {inv.repair}): it goes back to the model.
          <Pre label="Errors" value={inv.errors} />
        </div>
      ))}
      {step.calls.length > 0 ? (
        <ul className="tl-calls" aria-label={`Tool calls of step ${step.step}`}>
          {step.calls.map((c) => (
            <CallView key={c.call_id} call={c} steering={steering} depth={depth} />
          ))}
        </ul>
      ) : null}
    </li>
  );
});

function callState(c: ToolCall): string {
  if (c.approval?.state === 'waiting') return 'waiting for approval';
  if (c.question !== null && c.question.answer === null && c.state !== 'done') return 'waiting for an answer';
  if (c.state === 'requested') return 'requested';
  if (c.state === 'running') return 'running';
  return c.ok ? 'ok' : `failed${c.error_type ? ` (${c.error_type})` : ''}`;
}

function CallView({ call: c, steering, depth }: { call: ToolCall; steering: Steering | null; depth: number }) {
  return (
    <li className="tl-call" id={`call-${c.call_id}`}>
      <p className="tl-call-head">
        <strong>{c.name || 'tool'}</strong> <code className="muted">{c.call_id}</code> ·{' '}
        <span className={`state state-${c.state === 'done' ? (c.ok ? 'ok' : 'bad') : 'wait'}`}>{callState(c)}</span>
      </p>
      <Pre label="Arguments" value={c.arguments} />
      {c.approval ? <ApprovalView call={c} steering={steering} /> : null}
      {c.question ? <QuestionView call={c} steering={steering} /> : null}
      {c.subrun ? <SubRunView sub={c.subrun} steering={steering} depth={depth} /> : null}
      {c.state === 'done' ? (
        c.ok ? (
          <Pre label={c.truncated ? 'Result (cut at 2,000 characters)' : 'Result'} value={c.result ?? ''} />
        ) : (
          <div className="tl-error">
            <strong>Error{c.error_type ? ` (${c.error_type})` : ''}:</strong> {c.error ?? c.result ?? 'no reason given'}
          </div>
        )
      ) : null}
    </li>
  );
}

function ApprovalView({ call: c, steering }: { call: ToolCall; steering: Steering | null }) {
  const approval = c.approval;
  if (approval === null) return null;
  const what = approval.cause === 'outcome_unknown' ? 'a retry of this call (its outcome is unknown)' : 'this call';
  if (approval.state !== 'waiting') {
    return (
      <p className={approval.state === 'approved' ? 'tl-ok' : 'tl-warn'}>
        {approval.state === 'expired' ? `Approval of ${what} expired` : `${capital(approval.state)}`}
        {approval.by ? ` by ${approval.by}` : ''}
        {approval.reason ? `: ${approval.reason}` : ''}.
      </p>
    );
  }
  return (
    <div className="tl-ask" role="group" aria-label={`Approve ${c.name} ${c.call_id}`}>
      <p>
        <strong>Waiting for approval</strong> of {what}
        {approval.timeout_s !== null ? ` (it expires after ${Math.round(approval.timeout_s)} s)` : ''}.
      </p>
      {steering ? (
        <ApprovalForm call={c} steering={steering} />
      ) : (
        <p className="muted">A run-scope token may decide.</p>
      )}
    </div>
  );
}

function ApprovalForm({ call: c, steering }: { call: ToolCall; steering: Steering }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const answer = await call(
        api.POST('/v1/runs/{run_id}/approvals/{call_id}', {
          params: { path: { run_id: steering.runId, call_id: c.call_id } },
          body: { decision, reason: decision === 'reject' ? reason : '', by: steering.by },
        }),
      );
      setSent(answer.decision);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
    } finally {
      setBusy(false);
    }
  };

  if (sent) return <p className="tl-ok">{capital(sent)}: the run goes on.</p>;
  return (
    <>
      <Field label="Reason (told to the model if you reject)" name="reason" error={error?.field('reason')}>
        {(control) => <input {...control} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void decide('reject')}>
          Reject
        </button>
      </div>
      <ErrorMessage error={error} />
    </>
  );
}

function QuestionView({ call: c, steering }: { call: ToolCall; steering: Steering | null }) {
  const q = c.question;
  if (q === null) return null;
  return (
    <div className="tl-ask">
      <p>
        <strong>The agent asks:</strong> {q.question}
      </p>
      {q.answer !== null ? (
        <p className="tl-ok">Answered: {q.answer}</p>
      ) : c.state === 'done' ? null : steering ? (
        <AnswerForm call={c} steering={steering} />
      ) : (
        <p className="muted">A run-scope token may answer.</p>
      )}
    </div>
  );
}

function AnswerForm({ call: c, steering }: { call: ToolCall; steering: Steering }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  if (sent) return <p className="tl-ok">Answer sent: the run goes on.</p>;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!text.trim()) {
          setError(new ApiError(0, 'client_error', 'Write an answer first.', { text: 'Write an answer first.' }));
          return;
        }
        setBusy(true);
        setError(null);
        call(
          api.POST('/v1/runs/{run_id}/input', {
            params: { path: { run_id: steering.runId } },
            body: { text, call_id: c.call_id },
          }),
        ).then(
          () => setSent(true),
          (err: unknown) => {
            setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
            setBusy(false);
          },
        );
      }}
    >
      <Field label="Your answer" name="text" error={error?.field('text')}>
        {(control) => <textarea {...control} rows={2} value={text} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <button type="submit" disabled={busy}>
        Send answer
      </button>
      {error && !error.field('text') ? <ErrorMessage error={error} /> : null}
    </form>
  );
}

function SubRunView({ sub, steering, depth }: { sub: SubRun; steering: Steering | null; depth: number }) {
  const words =
    sub.state === 'running'
      ? 'running'
      : sub.state === 'failed'
        ? `failed${sub.error_type ? ` (${sub.error_type})` : ''}`
        : sub.state === 'stopped'
          ? `stopped: ${stopReasonWords(sub.stop_reason)}`
          : 'completed';
  return (
    <details className="tl-sub" open={depth < 2}>
      <summary>
        Sub-agent run of <strong>{sub.agent}</strong> · <span className="state">{words}</span>
      </summary>
      <p>
        {sub.run_id ? <Link to={`/runs/${encodeURIComponent(sub.run_id)}`}>Open run {sub.run_id}</Link> : null}
        {sub.usage ? (
          <>
            {' '}
            · <UsageLine usage={sub.usage} />
          </>
        ) : null}
      </p>
      {sub.error ? <p className="tl-error">{sub.error}</p> : null}
      <TimelineView
        timeline={sub.timeline}
        steering={steering && { ...steering, runId: sub.run_id }}
        depth={depth + 1}
      />
    </details>
  );
}

function EndView({ end }: { end: RunEnd }) {
  let title: ReactNode;
  if (end.kind === 'completed') title = 'Completed';
  else if (end.kind === 'stopped') title = `Stopped: ${stopReasonWords(end.stop_reason)}`;
  else if (end.kind === 'cancelled') title = 'Cancelled';
  else title = `Failed${end.error_type ? ` (${end.error_type})` : ''}`;
  return (
    <li className={`tl-item tl-end tl-end-${end.kind}`}>
      <h3 className="tl-title">{title}</h3>
      <p className="tl-meta">
        {formatTime(end.time)}
        {end.steps !== null ? ` · ${end.steps} ${end.steps === 1 ? 'step' : 'steps'}` : ''}
        {end.tool_calls !== null ? ` · ${end.tool_calls} tool ${end.tool_calls === 1 ? 'call' : 'calls'}` : ''}
        {end.usage ? (
          <>
            {' · '}
            <UsageLine usage={end.usage} />
          </>
        ) : null}
      </p>
      {end.error ? (
        <p className="tl-error">
          <strong>Reason:</strong> {end.error}
        </p>
      ) : null}
      {end.answer ? (
        <div className="kv">
          <span className="kv-label">{end.kind === 'completed' ? 'Answer' : 'Last answer'}</span>
          <div className="tl-text tl-answer">{end.answer}</div>
        </div>
      ) : null}
      {end.output !== null && end.output !== undefined ? <Pre label="Output" value={end.output} /> : null}
    </li>
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
