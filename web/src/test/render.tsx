import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';

import type { Scope } from '../api/session';
import { routes } from '../routes';
import { json, mockFetch, type Seen } from './fetch';

/**
 * Render the whole app at `path` (a router path: `/agents/demo`), signed in with `scope`.
 * `answer` answers every other request; the requests seen are returned (whoami included).
 *
 *   const { seen } = renderApp('/agents', (r) => json(200, [agent]));
 */
export function renderApp(
  path: string,
  answer: (request: Seen) => Response | Promise<Response> = () =>
    json(404, { error: 'not_found', detail: 'not mocked' }),
  scope: Scope = 'admin',
) {
  const seen = mockFetch((request) =>
    request.method === 'GET' && request.url === '/v1/whoami'
      ? json(200, { token_id: 'tok_test', scope })
      : answer(request),
  );
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(<RouterProvider router={router} />);
  return { ...view, router, seen };
}
