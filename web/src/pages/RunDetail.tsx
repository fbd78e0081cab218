import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';

import { api, ApiError, call } from '../api/client';
import { useApi } from '../api/useApi';
import { allows, useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Page } from '../components/Page';
import { durationBetween, formatCost, formatDuration, formatTime, formatTokens } from '../runs/format';
import { Status } from '../runs/Status';
import { stopReasonWords, TimelineView } from '../runs/TimelineView';
import { usageOf, usageSoFar, waitingOn } from '../runs/timeline';
import { useRunEvents, type Connection } from '../runs/useRunEvents';

const CONNECTION_WORDS: Record<Connection, string> = {
  connecting: 'Connecting to the run’s events…',
  open: 'Live: events appear as they happen.',
  reconnecting: 'The connection dropped: reconnecting, from the last event received…',
  ended: 'The run has ended: its whole timeline is shown.',
  failed: 'The event stream could not be opened.',
};

/** One run: its header, and its timeline live from the event stream (replayed once it ended). */
export function RunDetail() {
  const { runId = '' } = useParams();
  // A new run id: a fresh stream and timeline.
  return <RunView key={runId} runId={runId} />;
}

/** Now, every second while `ticking` (a running run's duration). */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

function RunView({ runId }: { runId: string }) {
  const { who } = useSession();
  const { timeline, connection, retry } = useRunEvents(runId);
  const ended = timeline.end !== null;
  // Read the run again when its stream ends: its final status, close time and usage.
  const run = useApi(
    (signal) => call(api.GET('/v1/runs/{run_id}', { params: { path: { run_id: runId } }, signal })),
    [runId, ended],
  );
  const data = run.data;
  const status = data ? (data.status === 'running' && timeline.end ? timeline.end.kind : data.status) : null;
  const running = status === 'running';
  const now = useNow(running && !ended);
  const usage = usageSoFar(timeline) ?? usageOf(data?.usage);
  const mayRun = allows(who, 'run');
  const steering = useMemo(() => (mayRun ? { runId, by: who.token_id } : null), [mayRun, runId, who.token_id]);
  const waiting = waitingOn(timeline);
  const temporalUrl = data?.temporal_ui_url;

  if (run.state === 'error' && run.error.status === 404) {
    return (
      <Page title={`Run ${runId}`}>
        <EmptyState title="There is no such run" action={<Link to="/runs">Back to runs</Link>}>
          <p>No run has the id {runId}: it may be mistyped, or the run belongs to another Temporal namespace.</p>
        </EmptyState>
      </Page>
    );
  }

  return (
    <Page title={`Run ${runId}`} actions={running && !ended && steering ? <CancelButton runId={runId} /> : null}>
      {run.state === 'error' ? <ErrorMessage error={run.error} /> : null}
      <dl className="run-facts" aria-busy={run.state === 'loading'}>
        <div>
          <dt>Agent</dt>
          <dd>
            {data ? <Link to={`/agents/${encodeURIComponent(data.agent)}`}>{data.agent}</Link> : '…'}
            {data?.parent_run_id ? (
              <>
                {' '}
                (sub-agent of <Link to={`/runs/${encodeURIComponent(data.parent_run_id)}`}>{data.parent_run_id}</Link>)
              </>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{data ? data.agent_version : '…'}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            {status ? <Status status={status} /> : '…'}
            {data?.stop_reason && data.stop_reason !== 'answer' ? ` (${stopReasonWords(data.stop_reason)})` : ''}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(data?.started_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>
            {data?.closed_at
              ? durationBetween(data.started_at, data.closed_at)
              : data?.started_at && running
                ? `${formatDuration(now - new Date(data.started_at).getTime())} so far`
                : '—'}
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{usage ? formatTokens(usage.total_tokens) : '—'}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{usage ? formatCost(usage.cost_usd) : '—'}</dd>
        </div>
        <div>
          <dt>Temporal</dt>
          <dd>
            {temporalUrl ? (
              <a href={temporalUrl} target="_blank" rel="noreferrer">
                Open in the Temporal Web UI
              </a>
            ) : (
              <span className="muted">workflow id {runId}</span>
            )}
          </dd>
        </div>
      </dl>

      {data && !data.live && data.notice ? <p className="notice">{data.notice}</p> : null}
      {data?.error ? (
        <p className="tl-error">
          <strong>Error:</strong> {data.error}
        </p>
      ) : null}

      {waiting.approvals.length + waiting.questions.length > 0 ? (
        <div className="notice notice-ask">
          <strong>This run waits for you:</strong>{' '}
          {[...waiting.approvals, ...waiting.questions].map((c, i) => (
            <span key={c.call_id}>
              {i > 0 ? ', ' : ''}
              <a href={`#call-${c.call_id}`}>
                {c.approval?.state === 'waiting' ? `approve or reject ${c.name}` : 'answer a question'}
              </a>
            </span>
          ))}
          .
        </div>
      ) : null}

      <section aria-labelledby="timeline-heading" className="run-timeline">
        <div className="section-head">
          <h2 id="timeline-heading">Timeline</h2>
          <p className="muted" role="status">
            {CONNECTION_WORDS[connection]}
          </p>
        </div>
        {connection === 'failed' ? (
          <div className="error-box">
            <p role="alert" className="error-message">
              The run’s events could not be read: the API refused the stream or is not reachable.
            </p>
            <button type="button" onClick={retry}>
              Try again
            </button>
          </div>
        ) : null}
        {timeline.notice ? <p className="notice">{timeline.notice}</p> : null}
        {timeline.streamError ? (
          <p role="alert" className="error-message">
            {timeline.streamError}: reconnecting.
          </p>
        ) : null}
        {timeline.count === 0 && connection !== 'failed' ? (
          <p className="muted">No events yet.</p>
        ) : (
          <TimelineView timeline={timeline} steering={steering} />
        )}
      </section>
    </Page>
  );
}

function CancelButton({ runId }: { runId: string }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  if (done) return <p role="status">Cancel requested: the run stops at its next step.</p>;
  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Cancel run
      </button>
    );
  }
  return (
    <div role="group" aria-label="Confirm cancel" className="confirm">
      <span>Cancel this run? It stops and cannot be resumed.</span>
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          call(api.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: runId } } })).then(
            () => setDone(true),
            (err: unknown) => {
              setError(err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err)));
              setBusy(false);
            },
          );
        }}
      >
        Yes, cancel the run
      </button>
      <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(false)}>
        Keep it running
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}
