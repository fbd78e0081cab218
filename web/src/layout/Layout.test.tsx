import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';

import { json, mockFetch } from '../test/fetch';
import { renderApp } from '../test/render';
import { routes } from '../routes';

function renderAt(entry: string) {
  const router = createMemoryRouter(routes, { initialEntries: [entry] });
  render(<RouterProvider router={router} />);
  return router;
}

describe('the shell', () => {
  it('sends a page without a session to sign-in, with the page as next', async () => {
    mockFetch(() => json(401, { error: 'unauthorized', detail: 'no token' }));
    const router = renderAt('/runs?status=failed');
    expect(await screen.findByRole('heading', { name: 'Sign in to orch' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/sign-in');
    expect(new URLSearchParams(router.state.location.search).get('next')).toBe('/runs?status=failed');
  });

  it('shows the nav, the landmarks and the page for a session', async () => {
    renderApp('/agents');
    expect(await screen.findByRole('heading', { level: 1, name: 'Agents' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const labels = within(nav)
      .getAllByRole('link')
      .map((link) => link.textContent);
    expect(labels).toEqual(['Overview', 'Runs', 'Topology', 'Agents', 'Tools', 'Providers', 'Routes', 'MCP servers']);
    expect(within(nav).getByRole('link', { name: 'Agents' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('main')).toHaveAttribute('id', 'main');
    expect(screen.getByRole('link', { name: 'Skip to content' })).toHaveAttribute('href', '#main');
    expect(screen.getByRole('banner')).toHaveTextContent('tok_test (admin)');
  });

  it('opens a page from the nav and moves focus to its content', async () => {
    mockFetch(() => json(200, { token_id: 'tok_1', scope: 'read' }));
    const router = renderAt('/');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: 'Overview' });
    await user.click(screen.getByRole('link', { name: 'MCP servers' }));
    expect(router.state.location.pathname).toBe('/mcp-servers');
    expect(screen.getByRole('heading', { level: 1, name: 'MCP servers' })).toBeInTheDocument();
    expect(screen.getByRole('main')).toHaveFocus();
  });

  it('signs out and goes to sign-in', async () => {
    const seen = mockFetch((request) =>
      request.url === '/v1/session' ? new Response(null, { status: 204 }) : json(200, { token_id: 't', scope: 'run' }),
    );
    const router = renderAt('/tools');
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in to orch' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/sign-in');
    // The page's own calls (the tools list) aside: who, then the session's end.
    const session = seen.filter((r) => r.url === '/v1/whoami' || r.url === '/v1/session');
    expect(session.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/whoami', 'DELETE /v1/session']);
  });

  it('says in words when the API cannot be reached, and tries again', async () => {
    let up = false;
    mockFetch(() => {
      if (!up) throw new TypeError('Failed to fetch');
      return json(200, { token_id: 't', scope: 'run' });
    });
    renderAt('/');
    const user = userEvent.setup();
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach the API');
    up = true;
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Overview' })).toBeInTheDocument();
  });

  it('has a page for every path of the app, and one for an unknown path', async () => {
    // The session for whoami; every other call a 404, which each page shows in words (an answer
    // of the wrong shape could make a page throw once it arrives, after its heading was found).
    mockFetch((r) =>
      r.url === '/v1/whoami'
        ? json(200, { token_id: 't', scope: 'admin' })
        : json(404, { error: 'not_found', detail: 'not mocked' }),
    );
    for (const [path, title] of [
      ['/runs/run-1', 'Run run-1'],
      ['/agents/demo', 'Agent demo'],
      ['/tools/calc', 'Tool calc'],
      ['/topology', 'Topology'],
      ['/providers', 'Providers'],
      ['/routes', 'Routes'],
      ['/nowhere', 'Page not found'],
    ] as const) {
      const { unmount } = render(<RouterProvider router={createMemoryRouter(routes, { initialEntries: [path] })} />);
      expect(await screen.findByRole('heading', { level: 1, name: title })).toBeInTheDocument();
      unmount();
    }
  });
});
