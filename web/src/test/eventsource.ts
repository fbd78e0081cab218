/**
 * A fake EventSource for jsdom (which has none), installed by setup.ts: a test finds the page's
 * stream in `FakeEventSource.instances` and plays messages on it.
 *
 *   const source = FakeEventSource.last();
 *   act(() => source.emit({ type: 'run.started', step: 0, data: {…} }, 0));
 */
export class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;

  static instances: FakeEventSource[] = [];

  static last(): FakeEventSource {
    const source = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!source) throw new Error('no EventSource was opened');
    return source;
  }

  readonly url: string;
  readonly withCredentials = false;
  readyState = 0;
  lastEventId = '';
  onopen: ((ev: Event) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** One SSE message: `event:` = the envelope's type, `id:` when given (else the last id stays). */
  emit(envelope: { type: string; [key: string]: unknown }, id?: number): void {
    if (this.readyState === 2) return;
    if (this.readyState === 0) this.open();
    if (id !== undefined) this.lastEventId = String(id);
    const message = new MessageEvent(envelope.type, { data: JSON.stringify(envelope), lastEventId: this.lastEventId });
    this.dispatchEvent(message);
  }

  /** A message whose data is not an envelope (`stream.unavailable`, `stream.error`). */
  notice(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: this.lastEventId }));
  }

  /** The connection dropped: `reconnect` true as a browser does (CONNECTING), else it gives up. */
  fail(reconnect = true): void {
    this.readyState = reconnect ? 0 : 2;
    this.onerror?.(new Event('error'));
  }

  close(): void {
    this.readyState = 2;
  }
}
