import { vi } from 'vitest';

export interface Seen {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

/** Replace globalThis.fetch with `answer`; returns the requests it saw (bodies parsed as JSON). */
export function mockFetch(answer: (request: Seen) => Response | Promise<Response>): Seen[] {
  const seen: Seen[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(new URL(String(input), window.location.origin), init);
    const text = await request.clone().text();
    const entry: Seen = {
      method: request.method,
      url: new URL(request.url, window.location.origin).pathname,
      headers: request.headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    seen.push(entry);
    return answer(entry);
  });
  return seen;
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
