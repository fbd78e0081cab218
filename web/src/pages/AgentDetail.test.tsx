import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { agent, configAnswer, demo, demoV1 } from '../test/config';
import { json } from '../test/fetch';
import { renderApp } from '../test/render';

describe('agent page', () => {
  it('shows the current version and its system prompt', async () => {
    renderApp('/agents/demo', configAnswer);
    expect(await screen.findByRole('heading', { name: 'Version 2 (current)' })).toBeInTheDocument();
    expect(screen.getByText(/Help \{\{ customer \}\}/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'ask_librarian' })).toHaveAttribute('href', '/tools/ask_librarian');
  });

  it('diffs two versions: changed fields, and the prompt line by line', async () => {
    renderApp('/agents/demo', configAnswer);
    const fields = await screen.findByRole('table', { name: 'Fields changed from version 1 to version 2' });
    const rows = within(fields).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual([
      'prompt_variables',
      'tools',
      'fallbacks',
      'max_steps',
    ]);
    expect(
      within(rows[3] as HTMLElement)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    ).toEqual(['10', '5']);
    const lines = screen.getByRole('list', { name: 'System prompt changes' });
    expect(
      within(lines)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['unchanged:  You are {{ agent }}.', 'added: +Help {{ customer }}.', 'unchanged:  Be brief.']);

    // The same version on both sides: nothing differs.
    await userEvent.setup().selectOptions(screen.getByLabelText('From version'), '2');
    expect(screen.getByText('Versions 2 and 2 have the same content.')).toBeInTheDocument();
  });

  it('rolls back to an old version with POST /v1/agents/{name}/rollback', async () => {
    const rolled = agent('demo', 3, { system_prompt: demoV1.system_prompt, tools: demoV1.tools });
    const { seen } = renderApp('/agents/demo', (r) =>
      r.method === 'POST' && r.url === '/v1/agents/demo/rollback' ? json(201, rolled) : configAnswer(r),
    );
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Roll back to this version (v1)' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Rolled back: version 3 is now current, a copy of version 1.',
    );
    const post = seen.find((r) => r.method === 'POST');
    expect(post).toMatchObject({ url: '/v1/agents/demo/rollback', body: { version: 1 } });
    expect(post?.headers.get('Content-Type')).toBe('application/json');
    expect(post?.headers.get('X-Requested-With')).toBe('orch-web');
    expect(await screen.findByRole('heading', { name: 'Version 3 (current)' })).toBeInTheDocument();
  });

  it('asks before deleting, and deletes only on Yes', async () => {
    const { seen, router } = renderApp('/agents/demo', (r) =>
      r.method === 'DELETE' ? new Response(null, { status: 204 }) : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Delete' }));
    const confirm = screen.getByRole('group', { name: 'Delete agent demo and all its versions?' });
    expect(within(confirm).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(seen.some((r) => r.method === 'DELETE')).toBe(false);
    expect(screen.getByRole('button', { name: 'Delete' })).toHaveFocus();

    // Escape cancels too.
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('button', { name: 'Yes, delete' })).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Yes, delete' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/agents'));
    expect(seen.find((r) => r.method === 'DELETE')?.url).toBe('/v1/agents/demo');
  });

  it('shows a refused delete in words', async () => {
    renderApp('/agents/demo', (r) =>
      r.method === 'DELETE'
        ? json(409, { error: 'conflict', detail: "route 'support' targets this agent" })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Yes, delete' }));
    expect(await screen.findByRole('alert')).toHaveTextContent("route 'support' targets this agent");
  });

  it('edits with PUT (no name in the body) and shows the new version', async () => {
    const { seen } = renderApp('/agents/demo', (r) =>
      r.method === 'PUT'
        ? json(200, { ...demo, version: 3, current_version: 3, model: 'gpt-4o-mini' })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    const model = screen.getByLabelText('Model');
    await user.clear(model);
    await user.type(model, 'gpt-4o-mini');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByRole('heading', { name: 'Version 3 (current)' })).toBeInTheDocument();
    const put = seen.find((r) => r.method === 'PUT');
    expect(put?.url).toBe('/v1/agents/demo');
    expect(put?.body).toMatchObject({ model: 'gpt-4o-mini', fallbacks: [{ provider: 'backup', model: '' }] });
    expect(put?.body).not.toHaveProperty('name');
  });

  it('try it: starts a run with the template variables and opens it', async () => {
    const { seen, router } = renderApp('/agents/demo', (r) =>
      r.method === 'POST' && r.url === '/v1/runs'
        ? json(202, { run_id: 'run-9', agent: 'demo', agent_version: 2, events_url: '', temporal_ui_url: '' })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'Try it' });
    await user.type(within(panel).getByLabelText('Input'), 'What is 2+2?');
    await user.type(within(panel).getByLabelText('customer'), 'ACME');
    await user.click(within(panel).getByRole('button', { name: 'Start a run' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/runs/run-9'));
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({
      agent: 'demo',
      input: 'What is 2+2?',
      variables: { customer: 'ACME' },
      tokens: true, // the run's page follows it from its start
    });
  });

  it('try it: a thread sends to the thread, and a variable’s 422 shows next to it', async () => {
    const { seen } = renderApp('/agents/demo', (r) =>
      r.method === 'POST'
        ? json(422, {
            error: 'invalid_config',
            detail: [{ field: 'variables.customer', message: "required by the agent's prompt" }],
          })
        : configAnswer(r),
    );
    const user = userEvent.setup();
    const panel = await screen.findByRole('region', { name: 'Try it' });
    await user.type(within(panel).getByLabelText('Input'), 'hi');
    await user.type(within(panel).getByLabelText('Thread (optional)'), 'th-1');
    await user.click(within(panel).getByRole('button', { name: 'Start a run' }));
    await waitFor(() =>
      expect(within(panel).getByLabelText('customer')).toHaveAccessibleDescription("required by the agent's prompt"),
    );
    expect(seen.find((r) => r.method === 'POST')).toMatchObject({
      url: '/v1/threads/th-1/runs',
      body: { agent: 'demo', input: 'hi', variables: {}, tokens: true },
    });
  });

  it('a read session sees no edit, delete or rollback, and no try it', async () => {
    renderApp('/agents/demo', configAnswer, 'read');
    await screen.findByRole('heading', { name: 'Version 2 (current)' });
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Roll back/ })).toBeNull();
    expect(screen.queryByRole('region', { name: 'Try it' })).toBeNull();
  });
});
