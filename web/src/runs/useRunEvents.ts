import { useEffect, useReducer, useRef, useState } from 'react';

import {
  applyEvent,
  EMPTY_TIMELINE,
  EVENT_TYPES,
  parseEvent,
  TERMINAL,
  type RunEvent,
  type Timeline,
} from './timeline';

export type Connection = 'connecting' | 'open' | 'reconnecting' | 'ended' | 'failed';

/** The URL of a run's events with token deltas (same origin: the session cookie goes with it). */
export function eventsUrl(runId: string, after: number | null): string {
  const from = after === null ? '' : `&from=${after}`;
  return `/v1/runs/${encodeURIComponent(runId)}/events?include=tokens${from}`;
}

/**
 * The SSE `id:` of a message. A message without `id:` keeps the EventSource's last event id
 * (the spec), so it cannot be read off `lastEventId`: the messages without one are the
 * `stream.*` notices and the terminal event the API adds for a run closed from outside
 * (`step: null`).
 */
function offsetOf(message: MessageEvent<string>, type: string, step: unknown): number | null {
  if (type.startsWith('stream.')) return null;
  if (type in TERMINAL && step === null) return null;
  const id = Number.parseInt(message.lastEventId, 10);
  return Number.isNaN(id) ? null : id;
}

/**
 * Follow a run's events live: an EventSource on GET /v1/runs/{id}/events?include=tokens. Every
 * message goes through `applyEvent` at once (no batching beyond React's own, within the frame),
 * which drops what it has seen: the EventSource's own reconnections resume with Last-Event-ID,
 * and a reconnection asked for by hand (`retry`) resumes with `?from=` the last offset. The
 * stream is closed after the terminal event (else an EventSource reconnects forever).
 */
export function useRunEvents(runId: string): { timeline: Timeline; connection: Connection; retry: () => void } {
  const [timeline, dispatch] = useReducer(applyEvent, EMPTY_TIMELINE);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [attempt, setAttempt] = useState(0);
  const lastId = useRef<number | null>(null);
  const ended = useRef(false);

  useEffect(() => {
    if (ended.current) return;
    const source = new EventSource(eventsUrl(runId, lastId.current));
    const onMessage = (message: MessageEvent<string>) => {
      const raw = parseEvent(message.data, null);
      if (raw === null) return;
      const event: RunEvent = { ...raw, id: offsetOf(message, message.type, raw.step) };
      if (event.id !== null && (lastId.current === null || event.id > lastId.current)) lastId.current = event.id;
      dispatch(event);
      if (event.type in TERMINAL) {
        ended.current = true;
        source.close();
        setConnection('ended');
      }
    };
    const onNotice = (message: MessageEvent<string>) => {
      let data: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(message.data);
        if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
      } catch {
        /* keep {} */
      }
      dispatch({ id: null, type: message.type, step: null, time: null, data });
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, type.startsWith('stream.') ? onNotice : onMessage);
    }
    source.onopen = () => setConnection('open');
    source.onerror = () => {
      if (ended.current) return;
      // CONNECTING: the browser reconnects by itself (with Last-Event-ID); CLOSED: it gave up
      // (the answer was not a stream: 404, 401, 503).
      setConnection(source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting');
    };
    return () => source.close();
  }, [runId, attempt]);

  return {
    timeline,
    connection,
    retry: () => {
      setConnection('connecting');
      setAttempt((n) => n + 1);
    },
  };
}
