// LiteLLM's websearch_interception callback, the review's cases: who is identified before the body is read, what
// each search carries (end user, tags), which 429 ends the request, the per-round cap, Azure paths and aliases,
// a client's own web_search tool, and /queue/chat/completions. Same stack as websearch-interception.test.ts.
import { describe, expect, it } from 'vitest';
import type { FakeSearch } from './fakes/search-providers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { SEARCH_TOOL, useWebsearchStack } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
let stack: TestStack;
const { newKey, openai, anthropic, sentToModel, spendRows } = useWebsearchStack([], (s) => ({ stack, model, fake } = s));

describe('websearch_interception: who calls, what each search carries, and what ends a request', () => {
  it('answers a keyless call with the route\'s 401 before reading its body (a huge chunked upload is never buffered)', async () => {
    let sent = 0;
    const chunk = new TextEncoder().encode(`${' '.repeat(65_535)}\n`);
    const start = new TextEncoder().encode('{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"litellm_web_search"}}],"messages":[{"role":"user","content":"');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(start);
      },
      pull(controller) {
        // Up to 100 MB, made as it is read: no more is sent than the gateway takes.
        if (sent >= 100 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const began = Date.now();
    const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).error).toMatchObject({ type: 'auth_error', code: '401' });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(sent).toBeLessThan(20 * 1024 * 1024);
    expect(model.requests).toHaveLength(0);
  });

  it('reads a keyed call\'s body within max_request_size_mb: an endless upload gets the route\'s 413', async () => {
    const key = await newKey();
    let sent = 0;
    const chunk = new TextEncoder().encode(' '.repeat(65_536));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"litellm_web_search"}}],"messages":[]'));
      },
      pull(controller) {
        if (sent >= 100 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body, duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(40 * 1024 * 1024);
    expect(model.requests).toHaveLength(0);
  });

  it('sends the request\'s end user and tags with each search: its asearch row carries them', async () => {
    const key = await newKey();
    await openai(key).chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'attributed' }], tools: [SEARCH_TOOL], user: 'end-user-ws-7',
      metadata: { tags: ['ws-tag'] },
    } as any);
    const rows = await spendRows(key, 3);
    const searchRow = rows.find((r) => r.call_type === 'asearch')!;
    expect(searchRow.end_user).toBe('end-user-ws-7');
    expect(searchRow.request_tags).toEqual(['ws-tag']);
    // None of it reaches the search provider.
    expect(Object.keys(fake.requests[0]!.body)).not.toContain('user');
  });

  it('sends /v1/messages\' metadata.user_id with each search as its end user', async () => {
    const key = await newKey();
    await anthropic(key).messages.create({
      model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'anthropic user' }], metadata: { user_id: 'claude-user-9' },
      tools: [{ type: 'web_search_20250305', name: 'web_search' } as any],
    });
    const rows = await spendRows(key, 3);
    expect(rows.find((r) => r.call_type === 'asearch')!.end_user).toBe('claude-user-9');
  });

  it('tells the model the search provider\'s own 429 as a failed search', async () => {
    const key = await newKey();
    fake.failNext(429, { detail: { error: 'too many requests' } });
    const answer = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'busy' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toMatch(/^From the web: Search failed: tavily rate limit reached/);
    expect(model.requests).toHaveLength(2);
  });

  it('ends the request with the caller\'s own rate limit on a search, with its retry headers', async () => {
    const key = await newKey({ rpm_limit: 1 });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'limited' }], tools: [SEARCH_TOOL] }),
    });
    expect(res.status).toBe(429);
    // The search route's error as it gave it: its param (none) is not made up.
    expect(((await res.json()) as Json).error).toEqual({ message: expect.any(String), type: 'rate_limit_error', param: null, code: '429' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('rate_limit_type')).toBe('requests');
    expect(model.requests).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('runs at most 5 searches a round and tells the model the rest were not run', async () => {
    const key = await newKey();
    const answer = await openai(key).chat.completions.create({ model: 'many-search', messages: [{ role: 'user', content: 'wide' }], tools: [SEARCH_TOOL] });
    expect(fake.requests.map((r) => r.body.query).sort()).toEqual(['wide 1', 'wide 2', 'wide 3', 'wide 4', 'wide 5']);
    const results = (sentToModel(1).messages as Json[]).filter((m) => m.role === 'tool');
    expect(results).toHaveLength(7);
    expect(results.slice(5).map((m) => m.content)).toEqual([expect.stringContaining('Search not run'), expect.stringContaining('Search not run')]);
    expect(answer.choices[0]!.message.content).toMatch(/^From the web: Search not run/);
  });

  it('runs a round\'s searches one at a time for a key with max_parallel_requests: 1, none of them refused', async () => {
    const key = await newKey({ max_parallel_requests: 1 });
    const answer = await openai(key).chat.completions.create({ model: 'many-search', messages: [{ role: 'user', content: 'narrow' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toMatch(/^From the web: Search not run/);
    expect(fake.requests).toHaveLength(5);
    // Two model calls and five searches, each a success: no search was launched past the key's limit and refused.
    await spendRows(key, 7);
    await new Promise((r) => setTimeout(r, 500));
    const rows = await query(stack.db.url, 'SELECT call_type, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);
    expect(rows.filter((r) => r.status !== 'success')).toEqual([]);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch', 'asearch', 'asearch', 'asearch', 'asearch']);
  });

  it('keeps a team\'s max_parallel_requests too: a team of one parallel request gets its searches with no refusal', async () => {
    const team = await fetch(`${stack.url}/team/new`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ max_parallel_requests: 1 }),
    });
    expect(team.status).toBe(200);
    const key = await newKey({ team_id: ((await team.json()) as Json).team_id });
    await openai(key).chat.completions.create({ model: 'many-search', messages: [{ role: 'user', content: 'team narrow' }], tools: [SEARCH_TOOL] });
    expect(fake.requests).toHaveLength(5);
    await spendRows(key, 7);
    await new Promise((r) => setTimeout(r, 500));
    const rows = await query(stack.db.url, 'SELECT status FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);
    expect(rows.filter((r) => r.status !== 'success')).toEqual([]);
  });

  it('intercepts a call naming its model in an Azure-style path, or by a key alias', async () => {
    const key = await newKey({ aliases: { 'my-model': 'gpt-4o' } });
    const res = await fetch(`${stack.url}/openai/deployments/gpt-4o/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'azure' }], tools: [SEARCH_TOOL] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).choices[0].message.content).toBe('From the web: Title: Tavily 1: news about azure');
    const aliased = await openai(key).chat.completions.create({ model: 'my-model', messages: [{ role: 'user', content: 'alias' }], tools: [SEARCH_TOOL] });
    expect(aliased.choices[0]!.message.content).toBe('From the web: Title: Tavily 1: news about alias');
    expect(fake.requests).toHaveLength(2);
  });

  it('hands the client a call of its own web_search function, even beside litellm_web_search', async () => {
    const key = await newKey();
    const own = { type: 'function' as const, function: { name: 'web_search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };
    const answer = await openai(key).chat.completions.create({ model: 'call-own', messages: [{ role: 'user', content: 'mine' }], tools: [own, SEARCH_TOOL] });
    expect(answer.choices[0]!.message.tool_calls?.[0]).toMatchObject({ function: { name: 'web_search', arguments: '{"q":"mine"}' } });
    expect(model.requests).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps the rows of the calls already made when the client leaves mid-loop', async () => {
    const key = await newKey();
    const leave = new AbortController();
    const call = openai(key).chat.completions.create({ model: 'slow-answer', messages: [{ role: 'user', content: 'gone' }], tools: [SEARCH_TOOL] }, { signal: leave.signal });
    await expect.poll(() => model.requests.length, { timeout: 5_000 }).toBe(2);
    leave.abort();
    await expect(call).rejects.toThrow();
    // The first model call, the search, and the follow-up that was in flight when the client left.
    const rows = await spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch']);
    expect(fake.requests).toHaveLength(1);
  });

  it('intercepts /queue/chat/completions too', async () => {
    const key = await newKey();
    const res = await fetch(`${stack.url}/queue/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', priority: 1, messages: [{ role: 'user', content: 'queued' }], tools: [SEARCH_TOOL] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).choices[0].message.content).toBe('From the web: Title: Tavily 1: news about queued');
    expect(model.requests).toHaveLength(2);
  });
});
