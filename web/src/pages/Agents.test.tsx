import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { configAnswer, demo } from '../test/config';
import { json } from '../test/fetch';
import { renderApp } from '../test/render';

describe('agents page', () => {
  it('lists the agents with links to their pages', async () => {
    renderApp('/agents', configAnswer);
    const table = await screen.findByRole('table', { name: 'Agents' });
    expect(within(table).getByRole('link', { name: 'demo' })).toHaveAttribute('href', '/agents/demo');
    expect(within(table).getByText('v2')).toBeInTheDocument();
  });

  it('creates an agent with the generated request body, then opens it', async () => {
    const { seen, router } = renderApp('/agents', (r) =>
      r.method === 'POST' && r.url === '/v1/agents' ? json(201, { ...demo, name: 'helper' }) : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New agent' }));
    const form = screen.getByRole('form', { name: 'New agent' });
    await user.type(within(form).getByLabelText('Name'), 'helper');
    await user.selectOptions(within(form).getByLabelText('Provider'), 'backup');
    await user.type(within(form).getByLabelText('System prompt'), 'Help {{{{ customer }}.');
    await user.type(within(form).getByLabelText('Prompt variables'), 'customer, tier');
    await user.click(within(form).getByRole('checkbox', { name: 'calculator' }));
    await user.clear(within(form).getByLabelText('Max steps'));
    await user.type(within(form).getByLabelText('Max steps'), '4');
    await user.type(within(form).getByLabelText('Cost budget (USD)'), '0.5');
    await user.click(within(form).getByRole('button', { name: 'Create agent' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/agents/helper'));
    const post = seen.find((r) => r.method === 'POST');
    expect(post?.body).toMatchObject({
      name: 'helper',
      provider: 'backup',
      model: '',
      system_prompt: 'Help {{ customer }}.',
      prompt_variables: ['customer', 'tier'],
      tools: ['calculator'],
      max_steps: 4,
      max_cost_usd: 0.5,
      max_total_tokens: null,
      fallbacks: [],
      output_schema: null,
      script: [],
      on_tool_error: 'continue',
    });
  });

  it('shows a 422 next to the field it names, and the form keeps what was typed', async () => {
    renderApp('/agents', (r) =>
      r.method === 'POST'
        ? json(422, {
            error: 'invalid_config',
            detail: [
              { field: 'system_prompt', message: "line 1: unknown variable 'customer'" },
              { field: 'body.max_steps', message: 'Input should be a valid integer' },
            ],
          })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New agent' }));
    await user.type(screen.getByLabelText('Name'), 'helper');
    await user.type(screen.getByLabelText('System prompt'), 'Hi {{{{ customer }}');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));

    const prompt = screen.getByLabelText('System prompt');
    await waitFor(() => expect(prompt).toHaveAttribute('aria-invalid', 'true'));
    expect(prompt).toHaveAccessibleDescription(expect.stringContaining("unknown variable 'customer'"));
    expect(screen.getByLabelText('Max steps')).toHaveAccessibleDescription(
      expect.stringContaining('Input should be a valid integer'),
    );
    expect(screen.getByLabelText('Name')).not.toHaveAttribute('aria-invalid');
    expect(screen.getByText('2 fields need fixing.')).toBeInTheDocument();
    expect(screen.getByLabelText('Name')).toHaveValue('helper');
  });

  it('shows a JSON field’s parse error and sends nothing', async () => {
    const { seen } = renderApp('/agents', configAnswer);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New agent' }));
    await user.type(screen.getByLabelText('Name'), 'helper');
    const schema = screen.getByLabelText('Output schema (JSON)');
    await user.type(schema, '{{"type": "object",}');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));

    expect(schema).toHaveAttribute('aria-invalid', 'true');
    expect(schema).toHaveAccessibleDescription(expect.stringContaining('This is not valid JSON'));
    expect(seen.some((r) => r.method === 'POST')).toBe(false);

    // A list where an object is expected is refused too.
    await user.clear(schema);
    await user.type(schema, '[[]');
    await user.tab();
    expect(schema).toHaveAccessibleDescription(expect.stringContaining('must be a JSON object'));
  });

  it('hides the write actions from a read-scope session', async () => {
    renderApp('/agents', configAnswer, 'read');
    await screen.findByRole('table', { name: 'Agents' });
    expect(screen.queryByRole('button', { name: 'New agent' })).toBeNull();
  });

  it('says what to do when there are no agents', async () => {
    renderApp('/agents', (r) => (r.url === '/v1/agents' ? json(200, []) : configAnswer(r)));
    expect(await screen.findByRole('heading', { name: 'No agents yet' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Create an agent' })).toBeInTheDocument();
  });
});
