// The bounds of LiteLLM's websearch_interception loop on /v1/responses end to end through workerd (the official
// openai client, the fake model on the Responses wire, a fake Tavily): a repeated search, a deployment's own
// max_agentic_loops (a fallback's too, and one lower than the deployment's that planned the rounds), and a model
// that searches even when told to answer (`tool_choice: "none"`).
import { describe, expect, it } from 'vitest';
import type { FakeSearch } from './fakes/search-providers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { SEARCH_TOOL as CHAT_TOOL, useWebsearchStack } from './support/websearch-stack.ts';

type Json = Record<string, any>;
let model: FakeUpstream;
let fake: FakeSearch;
const { newKey, openai, sentToModel } = useWebsearchStack([], (s) => ({ model, fake } = s));

const FUNCTION_TOOL = { type: 'function' as const, name: 'litellm_web_search', parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: false };

/** Whether a response's output still has a call of the gateway's search tool. */
const callsSearch = (output: { type: string }[]) => output.some((i) => i.type === 'function_call' && (i as Json).name === 'litellm_web_search');

describe('websearch_interception loop bounds', () => {
  it('ends the turn when the model asks again for a search it already ran, running it once', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'repeat-search', input: 'again', tools: [FUNCTION_TOOL] });
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about again']);
    // The repeated call gets the earlier result, and the model is asked to answer without tools.
    expect(model.requests).toHaveLength(3);
    expect(sentToModel(2).tool_choice).toBe('none');
    const outputs = (sentToModel(2).input as Json[]).filter((i) => i.type === 'function_call_output');
    expect(outputs).toHaveLength(2);
    expect(outputs[1]!.output).toBe(outputs[0]!.output);
    expect(response.output.some((i) => i.type === 'function_call')).toBe(false);
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about again');
    const answer = await openai(key).chat.completions.create({ model: 'repeat-search', messages: [{ role: 'user', content: 'again' }], tools: [CHAT_TOOL] });
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined();
    expect(fake.requests).toHaveLength(2);
    expect(model.requests).toHaveLength(5);
  });

  it('holds the loop to the answering deployment\'s own litellm_params.max_agentic_loops (1) over the callback\'s (2)', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'always-search-capped', input: 'cap', tools: [FUNCTION_TOOL] });
    expect(model.requests).toHaveLength(2);
    expect(sentToModel(1).tool_choice).toBe('none');
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about cap']);
    expect(response.output.some((i) => i.type === 'function_call')).toBe(false);
    const answer = await openai(key).chat.completions.create({ model: 'always-search-capped', messages: [{ role: 'user', content: 'cap' }], tools: [CHAT_TOOL] });
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(model.requests).toHaveLength(4);
    expect(fake.requests).toHaveLength(2);
  });

  it('holds a fallback to another group\'s deployment to that deployment\'s own max_agentic_loops', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'too-long', input: 'fell', tools: [FUNCTION_TOOL] });
    expect(response.output.some((i) => i.type === 'function_call')).toBe(false);
    // Every call went to `too-long` first, then to always-search-capped (ceiling 1, not the callback's 2).
    const answered = model.requests.filter((r) => (r.body as Json).model === 'always-search');
    expect(answered.map((r) => (r.body as Json).tool_choice)).toEqual([undefined, 'none']);
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about fell']);
  });

  it('closes a stored turn with one tool_choice "none" follow-up when a fallback with a lower ceiling answers at it', async () => {
    const key = await newKey();
    // short-window (the callback's ceiling, 2) asks a search, refuses the follow-up (context window), and its
    // fallback always-search-capped (ceiling 1) answers it with another search: round 1, at that deployment's ceiling.
    const response = await openai(key).responses.create({ model: 'short-window', input: 'mixed', tools: [FUNCTION_TOOL] });
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about mixed', 'news about mixed (2)']);
    const answered = model.requests.filter((r) => (r.body as Json).model === 'always-search');
    expect(answered.map((r) => (r.body as Json).tool_choice)).toEqual([undefined, 'none']);
    // The client's (stored) response is the answer to the closing call: no search call without its output.
    expect(callsSearch(response.output)).toBe(false);
    expect(response.output_text).toBe('From the web: Title: Tavily 1: news about mixed (2)');
    const closing = answered[1]!.body as Json;
    expect((closing.input as Json[]).filter((i) => i.type === 'function_call_output')).toHaveLength(2);
  });

  it('ends the turn, with no further call, when the model searches even after tool_choice "none"', async () => {
    const key = await newKey();
    const response = await openai(key).responses.create({ model: 'ignores-none', input: 'stubborn', tools: [FUNCTION_TOOL] });
    // Two rounds' searches (the callback's ceiling), the closing call's search not run, and no call after it.
    expect(fake.requests.map((r) => r.body.query)).toEqual(['news about stubborn', 'news about stubborn (2)']);
    expect(model.requests.map((r) => (r.body as Json).tool_choice)).toEqual([undefined, undefined, 'none']);
    expect(callsSearch(response.output)).toBe(false);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('');
  });
});
