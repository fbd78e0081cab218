import { describe, expect, it } from 'vitest';

import { api, ApiError, call, formField, setUnauthorizedHandler } from './client';
import { json, mockFetch } from '../test/fetch';

describe('formField', () => {
  it.each([
    ['body.input', 'input'],
    ['body.limits.max_steps', 'limits.max_steps'],
    ['body.tools[1]', 'tools[1]'],
    ['body.tools.1', 'tools[1]'],
    ['body.fallbacks[0].model', 'fallbacks[0].model'],
    ['query.limit', 'limit'],
    ['path.name', 'name'],
    ['tools[1]', 'tools[1]'],
    ['body', ''],
  ])('%s → %s', (path, field) => {
    expect(formField(path)).toBe(field);
  });
});

describe('ApiError.fromBody', () => {
  it('keeps the code and the message of a string detail', () => {
    const err = ApiError.fromBody(404, { error: 'not_found', detail: 'no agent named x' });
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.error, err.message]).toEqual([404, 'not_found', 'no agent named x']);
    expect(err.fieldErrors).toEqual({});
  });

  it('maps a 422 list to form fields', () => {
    const err = ApiError.fromBody(422, {
      error: 'validation_error',
      detail: [
        { field: 'body.input', message: 'Field required' },
        { field: 'body.tools[1]', message: 'unknown tool' },
        { field: 'body.tools[1]', message: 'twice' },
        { field: 'query.limit', message: 'at most 200' },
      ],
    });
    expect(err.error).toBe('validation_error');
    expect(err.fieldErrors).toEqual({
      input: 'Field required',
      'tools[1]': 'unknown tool twice',
      limit: 'at most 200',
    });
    expect(err.field('input')).toBe('Field required');
    expect(err.message).toBe('4 fields need fixing.');
  });

  it('uses a whole-body error as the message', () => {
    const err = ApiError.fromBody(422, {
      error: 'invalid_config',
      detail: [{ field: 'body', message: 'provider p does not exist' }],
    });
    expect(err.message).toBe('provider p does not exist');
    expect(err.fieldErrors).toEqual({ '': 'provider p does not exist' });
  });

  it('says something in words for a body that is not the API’s', () => {
    expect(ApiError.fromBody(502, undefined, 'Bad Gateway').message).toBe(
      'The API could not reach a service it needs.',
    );
    expect(ApiError.fromBody(418, { nope: 1 }).message).toBe('The API answered 418.');
    expect(ApiError.fromBody(500, '').error).toBe('http_500');
  });
});

describe('call', () => {
  it('sends X-Requested-With and same-origin credentials, and returns the body', async () => {
    const seen = mockFetch(() => json(200, { token_id: 'abc', scope: 'admin' }));
    await expect(call(api.GET('/v1/whoami'))).resolves.toEqual({ token_id: 'abc', scope: 'admin' });
    expect(seen[0]?.url).toBe('/v1/whoami');
    expect(seen[0]?.headers.get('X-Requested-With')).toBe('orch-web');
  });

  it('throws an ApiError with the field errors of a 422', async () => {
    mockFetch(() =>
      json(422, { error: 'validation_error', detail: [{ field: 'body.input', message: 'Field required' }] }),
    );
    const err = await call(api.POST('/v1/runs', { body: { agent: 'demo' } as never })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).fieldErrors).toEqual({ input: 'Field required' });
  });

  it('turns a network failure into status 0', async () => {
    mockFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const err = (await call(api.GET('/v1/agents')).catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.error]).toEqual([0, 'network_error']);
  });

  it('tells the unauthorized handler about a 401', async () => {
    const seen: number[] = [];
    setUnauthorizedHandler((response) => seen.push(response.status));
    mockFetch(() => json(401, { error: 'unauthorized', detail: 'no token' }));
    await call(api.GET('/v1/agents')).catch(() => undefined);
    setUnauthorizedHandler(null);
    expect(seen).toEqual([401]);
  });
});
