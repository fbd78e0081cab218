import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

import { FakeEventSource } from './eventsource';

// Node's Request (which jsdom leaves in place) refuses relative URLs; a browser resolves them
// against the page, as the client's baseUrl '' expects. Do the same here.
const NodeRequest = globalThis.Request;
class PageRequest extends NodeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === 'string' ? new URL(input, window.location.href) : input, init);
  }
}
globalThis.Request = PageRequest;

// jsdom has no EventSource: the run page's stream is a fake that tests drive (src/test/eventsource.ts).
globalThis.EventSource = FakeEventSource as unknown as typeof EventSource;

afterEach(() => {
  cleanup();
  FakeEventSource.instances = [];
});
