import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it } from 'vitest';

import { configAnswer } from '../test/config';
import { json } from '../test/fetch';
import { stubLayout } from '../test/flow';
import { renderApp } from '../test/render';

beforeAll(stubLayout);

describe('topology page', () => {
  it('draws the configuration, marks failing agents in words, and opens a node', async () => {
    const { seen, router } = renderApp('/topology', configAnswer);
    const list = await screen.findByRole('region', { name: 'Agents' });
    expect(within(list).getByText('2 failed runs in the last hour')).toBeInTheDocument();
    // The graph's own node for demo carries the badge too.
    expect(await screen.findByText('2 failed (1 h)')).toBeInTheDocument();
    expect(seen.find((r) => r.url === '/v1/stats/agents')).toBeDefined();

    await userEvent.setup().click(within(list).getByRole('link', { name: 'librarian' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/agents/librarian'));
  });

  it('says what to do when nothing is configured', async () => {
    renderApp('/topology', (r) => (r.url === '/v1/stats/agents' ? configAnswer(r) : json(200, [])));
    expect(await screen.findByRole('heading', { name: 'Nothing to draw yet' })).toBeInTheDocument();
  });

  it('still draws the graph when the stats are unavailable', async () => {
    renderApp('/topology', (r) =>
      r.url === '/v1/stats/agents' ? json(404, { error: 'not_found', detail: '' }) : configAnswer(r),
    );
    expect(await screen.findByText(/Failed runs cannot be shown/)).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Routes' })).toBeInTheDocument();
  });
});
