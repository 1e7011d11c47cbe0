// LiteLLM's websearch_interception on /v1/responses end to end through workerd: the official openai client's
// responses.create offers OpenAI's hosted web_search tool (or the litellm_web_search function), a fake model on the
// Responses wire answers a function_call of litellm_web_search first and a message from the results second (or, for
// the Anthropic deployment, through the chat bridge), a fake Tavily serves (or fails) the search.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeSearch } from './fakes/search-providers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import type { TestStack } from './support/stack.ts';
import { SEARCH_KEYS, useWebsearchStack } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
let stack: TestStack;
const { newKey, openai, sentToModel, spendRows } = useWebsearchStack([], (s) => ({ stack, model, fake } = s));

const FUNCTION_TOOL = { type: 'function' as const, name: 'litellm_web_search', parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: false };

describe('websearch_interception on /v1/responses', () => {
  it('runs the search the model asks for and answers from its results, billing both model calls and the search', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({
      model: 'gpt-4o', input: 'tollgate', tools: [{ type: 'web_search_preview' }], user: 'resp-user-1',
      litellm_metadata: { tags: ['resp-tag'] },
    } as any);
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about tollgate');
    expect(response.status).toBe('completed');
    expect(fake.requests.map((r) => [r.provider, r.body.query])).toEqual([['tavily', 'news about tollgate']]);
    expect(model.requests.map((r) => r.path)).toEqual(['/v1/responses', '/v1/responses']);
    // The model is offered the standard function instead of the hosted tool, never asked to stream.
    expect(sentToModel(0).tools).toEqual([expect.objectContaining({ type: 'function', name: 'litellm_web_search' })]);
    // The follow-up replays the input, the model's call (without the provider's ids; its reasoning, with no
    // encrypted_content, is nothing but an id and is left out) and the search's result.
    const input = sentToModel(1).input as Json[];
    expect(input[0]).toMatchObject({ role: 'user', content: 'tollgate' });
    expect(input.slice(1).map((i) => i.type)).toEqual(['function_call', 'function_call_output']);
    expect(input[1]).toEqual({ type: 'function_call', call_id: expect.any(String), name: 'litellm_web_search', arguments: JSON.stringify({ query: 'news about tollgate' }) });
    expect(input[2]).toMatchObject({ call_id: input[1]!.call_id, output: expect.stringContaining('URL: https://tavily.example/1\nSnippet: About news about tollgate (1)') });
    const rows = await spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['aresponses', 'aresponses', 'asearch']);
    const searchRow = rows.find((r) => r.call_type === 'asearch')!;
    expect(Number(searchRow.spend)).toBeCloseTo(0.002, 6);
    expect(searchRow.end_user).toBe('resp-user-1');
    expect(searchRow.request_tags).toEqual(['resp-tag']);
    // No credential reaches the model or the client; the caller's key never reaches the model.
    expect(JSON.stringify(model.requests.map((r) => r.body))).not.toContain(SEARCH_KEYS.tavily);
    for (const r of model.requests) expect(JSON.stringify(r.headers)).not.toContain(key);
    const shown = JSON.stringify(response);
    for (const secret of [key, SEARCH_KEYS.tavily, 'sk-upstream-secret-0001']) expect(shown).not.toContain(secret);
  });

  it('streams the final response to a client that asked to stream, after a loop run on whole responses', async () => {
    const key = await newKey();
    const stream = await openai(key).responses.create({ model: 'gpt-4o', input: 'edge', tools: [FUNCTION_TOOL], stream: true });
    let text = '';
    let completed: Json | undefined;
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response as Json;
    }
    expect(text).toBe('From the web: Title: Tavily 1: news about edge');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(completed!.usage).toMatchObject({ input_tokens: 20, output_tokens: 10 });
    expect(model.requests.map((r) => (r.body as Json).stream ?? false)).toEqual([false, false]);
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about edge']);
  });

  it('tells the model a failed search and still answers (store: false replayed without ids), the failure billed at nothing', async () => {
    const key = await newKey();
    fake.failNext(500, { detail: { error: 'tavily is down' } });
    const response = await openai(key).responses.create({ model: 'gpt-4o', input: 'outage', tools: [{ type: 'web_search' }], store: false });
    expect(response.output_text).toBe('From the web: Search failed: tavily failed the search (HTTP 500): tavily is down');
    // Nothing stored to look ids up by: the reasoning item (no encrypted_content) is left out, the call goes without its id.
    const replayed = (sentToModel(1).input as Json[]).slice(1);
    expect(replayed.map((i) => i.type)).toEqual(['function_call', 'function_call_output']);
    expect(replayed[0]!.id).toBeUndefined();
    const rows = await spendRows(key, 3);
    expect(Number(rows.find((r) => r.call_type === 'asearch')!.spend)).toBe(0);
  });

  it('streams the answer of a loop whose search failed, the model told so', async () => {
    const key = await newKey();
    fake.failNext(500, { detail: { error: 'tavily is down' } });
    const stream = openai(key).responses.stream({ model: 'gpt-4o', input: 'down', tools: [{ type: 'web_search_preview' }] });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('From the web: Search failed: tavily failed the search (HTTP 500): tavily is down');
    expect(final.status).toBe('completed');
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses a key whose object_permission leaves the search tool out, in the OpenAI error envelope', async () => {
    const key = await newKey({ object_permission: { search_tools: ['other'] } });
    const err = await openai(key).responses.create({ model: 'gpt-4o', input: 'x', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'key_search_tool_access_denied', code: '403' });
    expect(fake.requests).toHaveLength(0);
    expect(model.requests).toHaveLength(1);
  });

  it('at max_agentic_loops asks the model to answer without tools, so the stored response has no search call without its output', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'always-search', input: 'loop', tools: [FUNCTION_TOOL], tool_choice: { type: 'function', name: 'litellm_web_search' } });
    expect(model.requests).toHaveLength(3);
    expect(fake.requests).toHaveLength(2);
    expect(response.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about loop (2)');
    // A forced search is forced on the first call only; the last follow-up allowed may not call tools at all.
    expect(model.requests.map((r) => (r.body as Json).tool_choice)).toEqual([{ type: 'function', name: 'litellm_web_search' }, 'auto', 'none']);
    // Stored nowhere (store: false), the turn still ends on the last answer, its search call taken out.
    const unstored = await openai(key).responses.create({ model: 'always-search', input: 'loop2', tools: [FUNCTION_TOOL], store: false });
    expect(unstored.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(model.requests.slice(3).map((r) => (r.body as Json).tool_choice)).toEqual([undefined, undefined, undefined]);
  });

  it('runs the follow-up on the other account of a group (a retry after the first fails) without the first one\'s item ids', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'two-accounts', input: 'accounts', tools: [{ type: 'web_search' }] });
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about accounts');
    const accounts = model.requests.map((r) => r.headers.authorization);
    // The first account answered the first call; the follow-up was answered by the other.
    expect(new Set([accounts[0], accounts.at(-1)]).size).toBe(2);
    expect(fake.requests).toHaveLength(1);
  });

  it('runs a search beside the provider\'s own MCP tool listing, which the follow-up does not replay', async () => {
    const key = await newKey();
    const mcp = { type: 'mcp', server_label: 'docs', server_url: 'https://mcp.example.com/sse', require_approval: 'never' };
    const response = await openai(key).responses.create({ model: 'gpt-4o', input: 'mcp', tools: [{ type: 'web_search' }, mcp] } as any);
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about mcp');
    expect(response.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about mcp']);
    expect(model.requests).toHaveLength(2);
    // The MCP server is offered on every call; its listing (valid input only with the provider's id) is left to it to redo.
    for (const i of [0, 1]) expect(sentToModel(i).tools).toContainEqual(mcp);
    expect((sentToModel(1).input as Json[]).map((i) => i.type ?? 'message')).toEqual(['message', 'function_call', 'function_call_output']);
  });

  it('runs the loop through the chat bridge for a provider without the Responses API', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'claude', input: 'bridge', tools: [{ type: 'web_search' }] });
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about bridge');
    expect(model.requests.map((r) => r.path)).toEqual(['/v1/messages', '/v1/messages']);
    const followUp = sentToModel(1).messages as Json[];
    expect(followUp.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'tool_result', content: expect.stringContaining('URL: https://tavily.example/1') }] });
  });

  it('leaves calls alone without the web search tool, and for providers not enabled', async () => {
    const key = await newKey();
    const plain = await openai(key).responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(plain.output_text).toBe('plain answer');
    const vllm = await openai(key).responses.create({ model: 'vllm-model', input: 'hi', tools: [FUNCTION_TOOL] });
    expect(vllm.output.find((i) => i.type === 'function_call')).toMatchObject({ name: 'litellm_web_search' });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a malformed call with the route\'s own 400 and searches nothing', async () => {
    const key = await newKey();
    const res = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', input: 42, tools: [{ type: 'web_search' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
    expect(model.requests).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);
  });
});
