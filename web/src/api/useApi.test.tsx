import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { json, mockFetch } from '../test/fetch';
import { api, call } from './client';
import { useApi } from './useApi';

function Agents() {
  const agents = useApi((signal) => call(api.GET('/v1/agents', { signal })), []);
  if (agents.state === 'loading') return <p>loading</p>;
  if (agents.state === 'error')
    return (
      <>
        <p role="alert">{agents.error.message}</p>
        <button type="button" onClick={agents.reload}>
          Retry
        </button>
      </>
    );
  return <p>{agents.data.length} agents</p>;
}

describe('useApi', () => {
  it('loads, shows an error in words, and reloads', async () => {
    let calls = 0;
    mockFetch(() => {
      calls += 1;
      return calls === 1 ? json(503, { error: 'not_ready', detail: 'the database is unavailable' }) : json(200, []);
    });
    render(<Agents />);
    expect(screen.getByText('loading')).toBeInTheDocument();
    expect(await screen.findByRole('alert')).toHaveTextContent('the database is unavailable');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('0 agents')).toBeInTheDocument();
  });
});
