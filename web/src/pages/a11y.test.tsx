import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';

import { seriousViolations } from '../test/axe';
import { renderApp } from '../test/render';
import { SignIn } from './SignIn';

const PAGES = [
  ['/', 'Overview'],
  ['/runs', 'Runs'],
  ['/runs/run-1', 'Run run-1'],
  ['/topology', 'Topology'],
  ['/agents', 'Agents'],
  ['/agents/demo', 'Agent demo'],
  ['/tools', 'Tools'],
  ['/tools/calc', 'Tool calc'],
  ['/providers', 'Providers'],
  ['/routes', 'Routes'],
  ['/mcp-servers', 'MCP servers'],
] as const;

describe('axe-core: no serious or critical violations', () => {
  it.each(PAGES)('%s', async (path, title) => {
    const { unmount } = renderApp(path);
    await screen.findByRole('heading', { level: 1, name: title });
    expect(await seriousViolations(document.body)).toEqual([]);
    unmount();
  });

  it('/sign-in', async () => {
    render(
      <RouterProvider
        router={createMemoryRouter([{ path: '/sign-in', element: <SignIn /> }], { initialEntries: ['/sign-in'] })}
      />,
    );
    await screen.findByRole('heading', { level: 1, name: 'Sign in to orch' });
    expect(await seriousViolations(document.body)).toEqual([]);
  });
});
