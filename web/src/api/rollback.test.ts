import { describe, expect, it } from 'vitest';

import { agent } from '../test/config';
import { json, mockFetch } from '../test/fetch';
import { rollbackAgent } from './rollback';

describe('rollbackAgent', () => {
  it('POSTs {"version": N} as JSON with the CSRF header, and answers the agent', async () => {
    const seen = mockFetch(() => json(201, agent('a b', 4)));
    const answer = await rollbackAgent('a b', 2);
    expect(answer.version).toBe(4);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/agents/a%20b/rollback', body: { version: 2 } });
    expect(seen[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(seen[0]?.headers.get('X-Requested-With')).toBe('orch-web');
  });

  it('throws the API’s error in words', async () => {
    mockFetch(() => json(404, { error: 'not_found', detail: "agent 'a' has no version 9" }));
    await expect(rollbackAgent('a', 9)).rejects.toMatchObject({ status: 404, message: "agent 'a' has no version 9" });
  });
});
