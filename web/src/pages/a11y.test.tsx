import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';

import { seriousViolations } from '../test/axe';
import { configAnswer } from '../test/config';
import { stubLayout } from '../test/flow';
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

// The configuration pages with something to show (lists, detail, versions, diff, graph), then
// with a form open: [path, title, what shows once loaded, the button that opens a form, the form].
const CONFIG_PAGES = [
  ['/agents', 'Agents', 'table', 'New agent', 'New agent'],
  ['/agents/demo', 'Agent demo', 'table', 'Edit', 'Edit agent demo'],
  ['/tools', 'Tools', 'table', 'New tool', 'New tool'],
  ['/tools/calculator', 'Tool calculator', 'region', 'Edit', 'Edit tool calculator'],
  ['/providers', 'Providers', 'list', 'New provider', 'New provider'],
  ['/routes', 'Routes', 'list', 'Try support', 'Try it'],
  ['/mcp-servers', 'MCP servers', 'list', 'New MCP server', 'New MCP server'],
  ['/topology', 'Topology', 'region', null, null],
] as const;

describe('axe-core, with a configuration: no serious or critical violations', () => {
  it.each(CONFIG_PAGES)('%s', async (path, title, loaded, opener, form) => {
    stubLayout();
    const { unmount } = renderApp(path, configAnswer);
    await screen.findByRole('heading', { level: 1, name: title });
    await screen.findAllByRole(loaded);
    expect(await seriousViolations(document.body)).toEqual([]);
    if (opener && form) {
      await userEvent.setup().click(await screen.findByRole('button', { name: opener }));
      await screen.findByRole(form === 'Try it' ? 'region' : 'form', { name: form });
      expect(await seriousViolations(document.body)).toEqual([]);
    }
    unmount();
  });
});
