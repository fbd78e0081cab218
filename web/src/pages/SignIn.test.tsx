import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';

import { json, mockFetch } from '../test/fetch';
import { SignIn } from './SignIn';

const CREATED = { token_id: 'tok_1', scope: 'admin', expires_at: '2026-12-02T00:00:00Z' };

function renderAt(entry: string) {
  const router = createMemoryRouter(
    [
      { path: '/sign-in', element: <SignIn /> },
      { path: '/', element: <p>overview page</p> },
      { path: '/runs', element: <p>runs page</p> },
    ],
    { initialEntries: [entry] },
  );
  render(<RouterProvider router={router} />);
  return router;
}

afterEach(() => {
  window.history.replaceState(null, '', '/');
});

describe('sign-in form', () => {
  it('has a labelled token field and signs in with it, then goes to next', async () => {
    const seen = mockFetch(() => json(200, CREATED));
    const router = renderAt('/sign-in?next=%2Fruns');
    const user = userEvent.setup();

    await user.type(screen.getByLabelText('API token'), '  orch_secret  ');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByText('runs page')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/runs');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/session', body: { token: 'orch_secret' } });
    expect(seen[0]?.headers.get('X-Requested-With')).toBe('orch-web');
  });

  it('shows a refused token in words, next to the field', async () => {
    mockFetch(() => json(401, { error: 'unauthorized', detail: 'unknown token' }));
    renderAt('/sign-in');
    const user = userEvent.setup();

    await user.type(screen.getByLabelText('API token'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('That token was not accepted');
    const field = screen.getByLabelText('API token');
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveAccessibleDescription(expect.stringContaining('That token was not accepted'));
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  it('asks for a token instead of sending an empty one', async () => {
    const seen = mockFetch(() => json(200, CREATED));
    renderAt('/sign-in');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Enter an API token');
    expect(seen).toHaveLength(0);
  });

  it('says so when the API cannot be reached', async () => {
    mockFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    renderAt('/sign-in');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('API token'), 'x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach the API');
  });

  it('signs in from a #token= link and takes the token out of the URL first', async () => {
    window.history.replaceState(null, '', '/ui/sign-in?next=%2Fruns#token=orch_from_link');
    const urls: string[] = [];
    const seen = mockFetch(() => {
      urls.push(window.location.href);
      return json(200, CREATED);
    });
    renderAt('/sign-in?next=%2Fruns');

    expect(await screen.findByText('runs page')).toBeInTheDocument();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toEqual({ token: 'orch_from_link' });
    expect(window.location.hash).toBe('');
    expect(window.location.href).not.toContain('orch_from_link');
    // Already gone while the request was in flight.
    expect(urls[0]).not.toContain('orch_from_link');
  });

  it('keeps a + in a linked token', async () => {
    window.history.replaceState(null, '', '/ui/sign-in#token=a+b%2Fc');
    const seen = mockFetch(() => json(200, CREATED));
    renderAt('/sign-in');
    expect(await screen.findByText('overview page')).toBeInTheDocument();
    expect(seen[0]?.body).toEqual({ token: 'a+b/c' });
  });

  it('shows the error of a link whose token is refused, with the URL clean', async () => {
    window.history.replaceState(null, '', '/ui/sign-in#token=revoked');
    mockFetch(() => json(401, { error: 'unauthorized', detail: 'revoked' }));
    renderAt('/sign-in');
    expect(await screen.findByRole('alert')).toHaveTextContent('That token was not accepted');
    await waitFor(() => expect(window.location.href).not.toContain('revoked'));
  });
});
