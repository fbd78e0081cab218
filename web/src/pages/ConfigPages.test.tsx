import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { calculator, configAnswer, docsServer, provider, route } from '../test/config';
import { json } from '../test/fetch';
import { renderApp } from '../test/render';

describe('tools', () => {
  it('creates a tool with JSON parameters and config', async () => {
    const { seen, router } = renderApp('/tools', (r) =>
      r.method === 'POST' ? json(201, { ...calculator, name: 'ask_docs' }) : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New tool' }));
    await user.type(screen.getByLabelText('Name'), 'ask_docs');
    await user.selectOptions(screen.getByLabelText('Kind'), 'agent');
    await user.type(screen.getByLabelText('Config (JSON)'), '{{"agent": "librarian"}');
    await user.click(screen.getByLabelText(/Requires approval/));
    await user.click(screen.getByRole('button', { name: 'Create tool' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/tools/ask_docs'));
    expect(seen.find((r) => r.method === 'POST')?.body).toMatchObject({
      name: 'ask_docs',
      kind: 'agent',
      config: { agent: 'librarian' },
      parameters: null,
      requires_approval: true,
      idempotent: null,
      timeout_s: 30,
    });
  });

  it('refuses a parameters schema that is not JSON before sending', async () => {
    const { seen } = renderApp('/tools', configAnswer);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New tool' }));
    await user.type(screen.getByLabelText('Name'), 't');
    await user.type(screen.getByLabelText('Parameters schema (JSON)'), "{{type: 'object'}");
    await user.click(screen.getByRole('button', { name: 'Create tool' }));
    expect(screen.getByLabelText('Parameters schema (JSON)')).toHaveAccessibleDescription(
      expect.stringContaining('This is not valid JSON'),
    );
    expect(seen.some((r) => r.method === 'POST')).toBe(false);
  });

  it('a tool page edits and deletes', async () => {
    const { seen, router } = renderApp('/tools/calculator', (r) => {
      if (r.method === 'PUT') return json(200, { ...calculator, timeout_s: 5 });
      if (r.method === 'DELETE') return new Response(null, { status: 204 });
      return configAnswer(r);
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    await user.clear(screen.getByLabelText('Timeout (s)'));
    await user.type(screen.getByLabelText('Timeout (s)'), '5');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('5 s')).toBeInTheDocument();
    expect(seen.find((r) => r.method === 'PUT')?.body).not.toHaveProperty('name');

    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Yes, delete' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/tools'));
    expect(seen.find((r) => r.method === 'DELETE')?.url).toBe('/v1/tools/calculator');
  });
});

describe('providers', () => {
  it('shows the key’s env var name, never a value, and creates a provider', async () => {
    const { seen } = renderApp('/providers', (r) =>
      r.method === 'POST' ? json(201, { ...provider, name: 'local' }) : configAnswer(r),
    );
    expect(await screen.findByText('$OPENAI_API_KEY')).toBeInTheDocument();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'New provider' }));
    await user.type(screen.getByLabelText('Name'), 'local');
    await user.selectOptions(screen.getByLabelText('Kind'), 'openai_compatible');
    await user.type(screen.getByLabelText('Base URL'), 'http://localhost:11434/v1');
    await user.type(screen.getByLabelText('API key environment variable'), 'LOCAL_KEY');
    await user.type(
      screen.getByLabelText('Prices (JSON)'),
      '[[{{"model": "m", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2}]',
    );
    await user.click(screen.getByRole('button', { name: 'Create provider' }));
    await waitFor(() => expect(seen.some((r) => r.method === 'POST')).toBe(true));
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({
      name: 'local',
      kind: 'openai_compatible',
      base_url: 'http://localhost:11434/v1',
      api_key_env: 'LOCAL_KEY',
      default_model: null,
      timeout_s: 60,
      headers: {},
      prices: [{ model: 'm', input_usd_per_mtok: 1, output_usd_per_mtok: 2 }],
    });
  });

  it('puts a nested field error (prices[0].model) under its JSON field', async () => {
    renderApp('/providers', (r) =>
      r.method === 'PUT'
        ? json(422, { error: 'invalid_config', detail: [{ field: 'prices[0].model', message: 'must not be empty' }] })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit openai' }));
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Prices (JSON)')).toHaveAccessibleDescription(
        expect.stringContaining('prices[0].model: must not be empty'),
      ),
    );
  });
});

describe('routes', () => {
  it('creates a route for an agent', async () => {
    const { seen } = renderApp('/routes', (r) => (r.method === 'POST' ? json(201, route) : configAnswer(r)));
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New route' }));
    const form = screen.getByRole('form', { name: 'New route' });
    await user.type(within(form).getByLabelText('Key'), 'faq');
    await user.selectOptions(within(form).getByLabelText('Agent'), 'librarian');
    await user.click(within(form).getByRole('button', { name: 'Create route' }));
    await waitFor(() => expect(seen.some((r) => r.method === 'POST')).toBe(true));
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({ key: 'faq', agent: 'librarian', description: '' });
  });

  it('try it on a route starts POST /v1/routes/{key}/runs and opens the run', async () => {
    const { seen, router } = renderApp('/routes', (r) =>
      r.method === 'POST'
        ? json(202, { run_id: 'run-7', agent: 'demo', agent_version: 2, events_url: '', temporal_ui_url: '' })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Try support' }));
    const panel = screen.getByRole('region', { name: 'Try it' });
    await user.type(within(panel).getByLabelText('Input'), 'hello');
    await user.type(within(panel).getByLabelText('customer'), '{{"id": 4}');
    await user.click(within(panel).getByLabelText(/Read the values as JSON/));
    await user.click(within(panel).getByRole('button', { name: 'Start a run' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/runs/run-7'));
    expect(seen.find((r) => r.method === 'POST')).toMatchObject({
      url: '/v1/routes/support/runs',
      body: { input: 'hello', variables: { customer: { id: 4 } }, tokens: true },
    });
  });

  it('try it lists an error about a variable that has no field', async () => {
    renderApp('/routes', (r) =>
      r.method === 'POST'
        ? json(422, {
            error: 'invalid_config',
            detail: [
              { field: 'variables.colour', message: 'this agent declares no such variable (declared: customer)' },
            ],
          })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Try support' }));
    await user.type(screen.getByLabelText('Input'), 'hi');
    await user.click(screen.getByRole('button', { name: 'Start a run' }));
    expect(
      await screen.findByText('variables.colour: this agent declares no such variable (declared: customer)'),
    ).toBeInTheDocument();
  });

  it('try it asks for an input instead of sending an empty one', async () => {
    const { seen } = renderApp('/routes', configAnswer);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Try support' }));
    await user.click(screen.getByRole('button', { name: 'Start a run' }));
    expect(screen.getByLabelText('Input')).toHaveAccessibleDescription(expect.stringContaining('Write the message'));
    expect(seen.some((r) => r.method === 'POST')).toBe(false);
  });
});

describe('MCP servers', () => {
  it('lists a server’s discovered tools and discovers again', async () => {
    const { seen } = renderApp('/mcp-servers', (r) =>
      r.method === 'POST' && r.url === '/v1/mcp-servers/docs/discover'
        ? json(200, {
            ...docsServer,
            discovery: {
              created: ['docs__fetch'],
              updated: [],
              unchanged: ['docs__search'],
              removed: [],
              stale: [],
              skipped: [],
            },
            tools: [...docsServer.tools, { name: 'docs__fetch', tool: 'fetch', description: '', stale: false }],
          })
        : configAnswer(r),
    );
    expect(await screen.findByRole('link', { name: 'docs__search' })).toHaveAttribute('href', '/tools/docs__search');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Discover the tools of docs' }));
    expect(await screen.findByText('Discovered: 1 created, 1 unchanged.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'docs__fetch' })).toBeInTheDocument();
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('registers an HTTP server; a 403 on transport shows next to it', async () => {
    const { seen } = renderApp('/mcp-servers', (r) =>
      r.method === 'POST'
        ? json(403, {
            error: 'forbidden',
            detail: [{ field: 'transport', message: 'stdio servers are registered from the seed file' }],
          })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New MCP server' }));
    await user.type(screen.getByLabelText('Name'), 'fs');
    await user.selectOptions(screen.getByLabelText('Transport'), 'stdio');
    await user.type(screen.getByLabelText('Command'), 'python');
    await user.type(screen.getByLabelText('Arguments'), '-m{Enter}fs_server');
    await user.click(screen.getByRole('button', { name: 'Register and discover' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Transport')).toHaveAccessibleDescription(
        expect.stringContaining('stdio servers are registered from the seed file'),
      ),
    );
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({
      name: 'fs',
      transport: 'stdio',
      url: null,
      headers: {},
      command: 'python',
      args: ['-m', 'fs_server'],
      env: {},
      timeout_s: 30,
    });
  });

  it('a read session is told MCP servers need admin, without asking the API', async () => {
    const { seen } = renderApp('/mcp-servers', configAnswer, 'read');
    expect(await screen.findByRole('heading', { name: 'MCP servers need an admin session' })).toBeInTheDocument();
    expect(seen.some((r) => r.url === '/v1/mcp-servers')).toBe(false);
  });
});
