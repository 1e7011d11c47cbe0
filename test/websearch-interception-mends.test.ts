// LiteLLM's websearch_interception callback, the second review's cases: the loop's own searches are held to the
// client's route, not /v1/search's (a key allowed only chat completions still gets its searched answer, not a 401), a
// follow-up the results made too large for max_request_size_mb ends the turn instead of a 413, and a forced
// tool_choice naming the client's own WebSearch tool stays the client's. Its own stack: max_request_size_mb 0.05.
import { describe, expect, it } from 'vitest';
import type { FakeSearch } from './fakes/search-providers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import type { TestStack } from './support/stack.ts';
import { SEARCH_TOOL, useWebsearchStack } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
let stack: TestStack;
const ws = useWebsearchStack(['max_request_size_mb: 0.05'], (s) => ({ stack, model, fake } = s));

describe('websearch_interception: the second review\'s mends', () => {
  it('runs the searches of a key allowed only /v1/chat/completions, which may still not call /v1/search itself', async () => {
    const key = await ws.newKey({ allowed_routes: ['/v1/chat/completions'] });
    const answer = await ws.openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'routes' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toBe('From the web: Title: Tavily 1: news about routes');
    expect(model.requests).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
    const rows = await ws.spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch']);
    // The client's own search is still held to the key's routes.
    const direct = await fetch(`${stack.url}/v1/search/web`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'direct' }),
    });
    // LiteLLM's refusal of a route allowed_routes leaves out: a 401.
    expect(direct.status).toBe(401);
    expect(((await direct.json()) as Json).error).toMatchObject({ type: 'auth_error', message: expect.stringContaining('Tried to call route: /v1/search/web'), code: '401' });
    expect(fake.requests).toHaveLength(1);
  });

  it('ends the turn with the last answer when the results would make the follow-up pass max_request_size_mb', async () => {
    const key = await ws.newKey();
    // A 2,500-character question: each of the five searches' results quotes it ten times (capped at 20,000 characters
    // each), so the follow-up carrying them passes the stack's 0.05 MB; the client's own request is far under it.
    const question = 'q'.repeat(2_500);
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'many-search', messages: [{ role: 'user', content: question }], tools: [SEARCH_TOOL] }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Json;
    expect(answer.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: '' } });
    expect(answer.choices[0].message.tool_calls).toBeUndefined();
    // The one model call and the five searches it asked for; no follow-up was sent.
    expect(model.requests).toHaveLength(1);
    expect(fake.requests).toHaveLength(5);
    const rows = await ws.spendRows(key, 6);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'asearch', 'asearch', 'asearch', 'asearch', 'asearch']);
  });

  it('keeps a forced tool_choice naming the client\'s own WebSearch tool beside a native web_search (Cowork\'s shape)', async () => {
    const key = await ws.newKey();
    const own = { name: 'WebSearch', description: 'The client\'s own search', input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } };
    const message = await ws.anthropic(key).messages.create({
      model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'cowork' }],
      tools: [own, { type: 'web_search_20250305', name: 'web_search' } as any], tool_choice: { type: 'tool', name: 'WebSearch' },
    });
    const sent = ws.sentToModel(0);
    expect(sent.tool_choice).toEqual({ type: 'tool', name: 'WebSearch' });
    expect(sent.tools.map((t: Json) => t.name)).toEqual(['WebSearch', 'litellm_web_search']);
    expect(sent.tools[0].input_schema).toEqual(own.input_schema);
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'From the web: Title: Tavily 1: news about cowork' });
  });
});
