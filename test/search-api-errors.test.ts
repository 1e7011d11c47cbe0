import { describe, expect, it } from 'vitest';
import { eventually, spendLogRow } from './support/keys.ts';
import { fake, generateKey, type Json, search, stack, useSearchStack, WRONG_KEY } from './support/search-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Search API's failures: a provider's 5xx or refused credential, bad input, unknown tools and keys, and a tool
 * without a credential, each answered in the error envelope.
 */

useSearchStack();

describe('failures', () => {
  it('answers a provider\'s 5xx as a 502 in the error envelope, logged as a failure at no cost', async () => {
    const key = await generateKey();
    fake.failNext(503, { detail: { error: 'upstream overloaded' } });
    const res = await search('/v1/search/web', { query: 'q' }, key);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { message: 'tavily failed the search (HTTP 503): upstream overloaded', type: 'api_error', param: null, code: '502' } });
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'asearch', status: 'failure', spend: 0 });
  });

  it('answers a provider refusing the tool\'s key as a 401 that never shows the key', async () => {
    const res = await search('/v1/search/stale-key', { query: 'q' }, TEST_MASTER_KEY);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'authentication_error', code: '401' } });
    expect(JSON.parse(text).error.message).toContain('tavily refused the credential of search tool stale-key (HTTP 401)');
    expect(text).not.toContain(WRONG_KEY);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${WRONG_KEY}`);
  });

  it('refuses bad input, unknown tools and missing keys with a 4xx and no provider call', async () => {
    const cases: [string, unknown, string | null, number, string | null][] = [
      ['/v1/search/web', { max_results: 2 }, TEST_MASTER_KEY, 400, 'query'],
      ['/v1/search/web', { query: 'q', max_results: 0 }, TEST_MASTER_KEY, 400, 'max_results'],
      ['/v1/search/nope', { query: 'q' }, TEST_MASTER_KEY, 400, 'search_tool_name'],
      ['/v1/search', { query: 'q' }, TEST_MASTER_KEY, 400, 'search_tool_name'],
      ['/v1/search/web', { query: 'q' }, null, 401, 'key'],
      ['/v1/search/web', { query: 'q' }, 'sk-not-a-real-key-0000', 401, null],
      // A tool's existence and its credential show only to a known key: an unknown one is refused first.
      ['/v1/search/nope', { query: 'q' }, 'sk-not-a-real-key-0000', 401, 'key'],
      ['/v1/search/no-credential', { query: 'q' }, 'sk-not-a-real-key-0000', 401, 'key'],
      // Bad input too: an unknown key gets its 401, not the body's 400.
      ['/v1/search/web', {}, 'sk-not-a-real-key-0000', 401, null],
      ['/v1/search/web', { query: 'q', max_results: 0 }, 'sk-not-a-real-key-0000', 401, null],
    ];
    for (const [path, body, key, status, param] of cases) {
      const res = await search(path, body, key);
      expect([path, res.status]).toEqual([path, status]);
      const { error } = (await res.json()) as Json;
      expect(error.code).toBe(String(status));
      if (param) expect(error.param).toBe(param);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a tool without a credential with a 500 naming where to set it, to a known key only, and releases its admission', async () => {
    const key = await generateKey({ max_parallel_requests: 1 });
    for (let i = 0; i < 2; i += 1) {
      const res = await search('/v1/search/no-credential', { query: 'q' }, key);
      expect(res.status).toBe(500);
      expect(((await res.json()) as Json).error.message).toContain('set its litellm_params.api_key (or EXA_API_KEY)');
    }
    expect((await search('/v1/search/pplx', { query: 'q', max_results: 1 }, key)).status).toBe(200);
  });
});
