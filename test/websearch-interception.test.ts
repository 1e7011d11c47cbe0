// LiteLLM's websearch_interception callback end to end through workerd: the official openai and Anthropic
// clients offer the litellm_web_search tool (or Anthropic's native web_search), a fake model on OpenAI's and Anthropic's wires calls it
// first and answers from the results second, a fake Tavily serves (or fails) the search; the client gets one answer.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeSearch } from './fakes/search-providers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import type { TestStack } from './support/stack.ts';
import { SEARCH_KEYS, SEARCH_TOOL, useWebsearchStack } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
let stack: TestStack;
const { newKey, openai, anthropic, sentToModel, spendRows } = useWebsearchStack([], (s) => ({ stack, model, fake } = s));

describe('websearch_interception on /v1/chat/completions', () => {
  it('runs the search the model asks for and answers from its results, billing both model calls and the search', async () => {
    const key = await newKey();
    const answer = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'tollgate' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toBe('From the web: Title: Tavily 1: news about tollgate');
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(fake.requests.map((r) => [r.provider, r.body.query])).toEqual([['tavily', 'news about tollgate']]);
    expect(model.requests).toHaveLength(2);
    // The follow-up carries the model's call and the results, as LiteLLM builds it.
    const followUp = sentToModel(1).messages as Json[];
    expect(followUp[1]).toMatchObject({ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'litellm_web_search' } }] });
    expect(followUp[2]).toMatchObject({ role: 'tool', tool_call_id: (followUp[1]!.tool_calls as Json[])[0]!.id });
    expect(followUp[2]!.content).toContain('URL: https://tavily.example/1\nSnippet: About news about tollgate (1)');
    const rows = await spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch']);
    expect(Number(rows.find((r) => r.call_type === 'asearch')!.spend)).toBeCloseTo(0.002, 6);
    // No credential of the search tool or the provider reaches the client or the model; the caller's key never reaches the model.
    expect(JSON.stringify(model.requests.map((r) => r.body))).not.toContain(SEARCH_KEYS.tavily);
    for (const r of model.requests) {
      expect(r.headers.authorization).toBe('Bearer sk-upstream-secret-0001');
      expect(JSON.stringify(r.headers)).not.toContain(key);
    }
    expect(fake.requests.every((r) => !JSON.stringify(r).includes(key))).toBe(true);
    const shown = JSON.stringify(answer);
    for (const secret of [key, SEARCH_KEYS.tavily, 'sk-upstream-secret-0001']) expect(shown).not.toContain(secret);
  });

  it('streams the final answer to a client that asked to stream, after a loop run on whole answers', async () => {
    const key = await newKey();
    const stream = await openai(key).chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'edge' }], tools: [SEARCH_TOOL], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('From the web: Title: Tavily 1: news about edge');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 10 });
    expect(model.requests.map((r) => (r.body as Json).stream ?? false)).toEqual([false, false]);
  });

  it('tells the model a failed search and still answers, the failure billed at nothing', async () => {
    const key = await newKey();
    fake.failNext(500, { detail: { error: 'tavily is down' } });
    const answer = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'outage' }], tools: [SEARCH_TOOL] });
    expect(answer.choices[0]!.message.content).toBe('From the web: Search failed: tavily failed the search (HTTP 500): tavily is down');
    const rows = await spendRows(key, 3);
    expect(Number(rows.find((r) => r.call_type === 'asearch')!.spend)).toBe(0);
  });

  it('refuses a key whose object_permission leaves the search tool out, after the one model call it made', async () => {
    const key = await newKey({ object_permission: { search_tools: ['other'] } });
    const err = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], tools: [SEARCH_TOOL] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'key_search_tool_access_denied', param: 'search_tool_name', code: '403' });
    expect(fake.requests).toHaveLength(0);
    expect(model.requests).toHaveLength(1);
  });

  it('checks the key\'s budget before each extra call: the follow-up after a search that spent it is refused', async () => {
    const key = await newKey({ max_budget: 0.001 });
    const err = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'pricey' }], tools: [SEARCH_TOOL] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'budget_exceeded' });
    // The search (0.002 of a 0.001 budget) was admitted with budget left; the follow-up model call was not.
    expect(model.requests).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    // Each call has its row: the model call, the search, and the refused follow-up (at no cost).
    const rows = await spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch']);
    expect(Number(rows[2]!.spend)).toBe(0);
  });

  it('stops at max_agentic_loops, handing back the last turn without the internal tool call', async () => {
    const key = await newKey();
    const answer = await openai(key).chat.completions.create({ model: 'always-search', messages: [{ role: 'user', content: 'loop' }], tools: [SEARCH_TOOL] });
    expect(model.requests).toHaveLength(3);
    expect(fake.requests).toHaveLength(2);
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it('leaves calls alone without the web search tool, and for providers not enabled', async () => {
    const key = await newKey();
    const plain = await openai(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.choices[0]!.message.content).toBe('plain answer');
    const vllm = await openai(key).chat.completions.create({ model: 'vllm-model', messages: [{ role: 'user', content: 'hi' }], tools: [SEARCH_TOOL] });
    expect((vllm.choices[0]!.message.tool_calls?.[0] as { function?: { name: string } } | undefined)?.function?.name).toBe('litellm_web_search');
    expect(model.requests).toHaveLength(2);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a malformed call with the route\'s own 400 and searches nothing', async () => {
    const key = await newKey();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: 'not a list', tools: [SEARCH_TOOL] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ type: expect.any(String), message: expect.any(String), code: '400' });
    expect(model.requests).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('websearch_interception on /v1/messages', () => {
  const native = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 } as const;

  it('takes over Anthropic\'s native web_search tool and answers as one message', async () => {
    const key = await newKey();
    const message = await anthropic(key).messages.create({ model: 'gpt-4o', max_tokens: 200, messages: [{ role: 'user', content: 'claude' }], tools: [native as any] });
    expect(message.content).toEqual([{ type: 'text', text: 'From the web: Title: Tavily 1: news about claude' }]);
    expect(message.stop_reason).toBe('end_turn');
    // The model is offered the standard tool instead of the native one.
    expect((sentToModel(0).tools as Json[]).map((t) => t.function?.name)).toEqual(['litellm_web_search']);
    expect((sentToModel(1).messages as Json[]).at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining('Title: Tavily 1: news about claude') });
    const rows = await spendRows(key, 3);
    expect(rows.map((r) => r.call_type).sort()).toEqual(['acompletion', 'acompletion', 'asearch']);
  });

  it('streams the final message to a client that asked to stream', async () => {
    const key = await newKey();
    const stream = anthropic(key).messages.stream({ model: 'gpt-4o', max_tokens: 200, messages: [{ role: 'user', content: 'sdk' }], tools: [native as any] });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'From the web: Title: Tavily 1: news about sdk' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(model.requests).toHaveLength(2);
  });

  it('runs the loop against an Anthropic model on its own wire, keeping the model\'s text beside its tool_use', async () => {
    const key = await newKey();
    const message = await anthropic(key).messages.create({ model: 'claude', max_tokens: 200, messages: [{ role: 'user', content: 'bedrock' }], tools: [native as any] });
    expect(message.content).toEqual([{ type: 'text', text: 'From the web: Title: Tavily 1: news about bedrock' }]);
    expect(model.requests.map((r) => r.path)).toEqual(['/v1/messages', '/v1/messages']);
    expect((sentToModel(0).tools as Json[]).map((t) => t.name)).toEqual(['litellm_web_search']);
    const followUp = sentToModel(1).messages as Json[];
    expect(followUp[1]).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'Let me look that up.' }, { type: 'tool_use', id: 'toolu_01', name: 'litellm_web_search' }] });
    expect(followUp[2]).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: expect.stringContaining('URL: https://tavily.example/1') }] });
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about bedrock']);
  });

  it('answers a search the key may not make in Anthropic\'s error format', async () => {
    const key = await newKey({ object_permission: { search_tools: ['other'] } });
    const err = await anthropic(key).messages.create({ model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'x' }], tools: [native as any] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
  });
});
