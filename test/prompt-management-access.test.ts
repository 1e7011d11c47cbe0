import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { client, promptApi, refusal, sent, stack, usePromptStack } from './support/prompt-management-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

// Who and where config.yaml's prompts are applied for: refused keys never reach the prompt API, bad messages,
// streamed chats, and prompt_id on endpoints other than /v1/chat/completions.

usePromptStack();

describe('who and where a prompt is applied for', () => {
  it('an unknown key naming a prompt is the 401, and the prompt API is never asked', async () => {
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-down', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', 'sk-not-a-real-key-0001');
    expect([denied.status, denied.error.type]).toEqual([401, 'token_not_found_in_db']);
    expect(promptApi.requests.length).toBe(asks);
  });

  const generate = async (body: Record<string, unknown>) => {
    const res = await fetch(`${stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json() as { key: string }).key;
  };
  // Each case its own generic prompt, never fetched before, so no kept answer stands in for the prompt API.
  const freshPrompt = (id: string) => promptApi.prompts.set(id, { prompt_template: [{ role: 'system', content: 'Fresh.' }] });

  it('a blocked key naming a generic prompt gets the blocked-key 403, and the prompt API is never asked', async () => {
    freshPrompt('remote-fresh-1');
    const key = await generate({ models: ['small', 'big'] });
    const blocked = await fetch(`${stack.url}/key/block`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
    expect(blocked.status).toBe(200);
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-fresh-1', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    expect([denied.status, denied.error.message]).toEqual([403, 'Authentication Error - Key is blocked. Update via `/key/unblock` if you\'re admin.']);
    expect(promptApi.requests.length).toBe(asks);
  });

  it("a key whose allowed_routes leave out chat gets its usual refusal with a generic prompt, and the prompt API is never asked", async () => {
    freshPrompt('remote-fresh-2');
    const key = await generate({ models: ['small', 'big'], allowed_routes: ['/v1/embeddings'] });
    const usual = await refusal({ model: 'small', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-fresh-2', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    expect(usual.status).toBeGreaterThanOrEqual(400);
    expect(denied).toEqual(usual);
    expect(promptApi.requests.length).toBe(asks);
  });

  it("a caller's messages that are not a list are a 400 naming messages", async () => {
    const refused = await refusal({ model: 'small', prompt_id: 'tutor', prompt_variables: { subject: 'x', level: 'y' }, messages: { role: 'user', content: 'hi' } });
    expect([refused.status, refused.error.param]).toEqual([400, 'messages']);
  });

  it('a streamed chat with a prompt: the provider gets the prompt\'s messages, the client the stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'small', stream: true, messages: [{ role: 'user', content: 'Explain limits.' }], prompt_id: 'tutor', prompt_variables: { subject: 'calculus', level: 'first-year' },
    } as OpenAI.Chat.ChatCompletionCreateParamsStreaming & Record<string, unknown>);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: Explain limits.');
    expect(sent()).toMatchObject({
      model: 'gpt-4o-mini', stream: true, temperature: 0.2,
      messages: [
        { role: 'system', content: 'You tutor calculus for first-year students.' },
        { role: 'user', content: 'Start with calculus.' },
        { role: 'user', content: 'Explain limits.' },
      ],
    });
  });

  it('a prompt_id on another endpoint or on /v1/messages is a 400 naming it, nothing sent', async () => {
    const embeddings = await refusal({ model: 'small', input: 'hi', prompt_id: 'tutor' }, '/v1/embeddings');
    expect([embeddings.status, embeddings.error.param]).toEqual([400, 'prompt_id']);
    expect(embeddings.error.message).toContain('/embeddings');
    const messages = await refusal({ model: 'small', max_tokens: 10, prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }, '/v1/messages');
    expect(messages.status).toBe(400);
    expect(messages.error.message).toContain('prompt_id is not supported on /v1/messages');
  });

  it('a prompt_id on /v1/rag/query is its 400 for a known key, an unknown key\'s 401 first', async () => {
    const body = { model: 'small', prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }], retrieval_config: { vector_store_id: 'vs_1' } };
    const denied = await refusal(body, '/v1/rag/query', 'sk-not-a-real-key-0001');
    expect([denied.status, denied.error.type]).toEqual([401, 'token_not_found_in_db']);
    const refused = await refusal(body, '/v1/rag/query');
    expect([refused.status, refused.error.param, refused.error.message]).toEqual([400, 'prompt_id', 'prompt_id is not supported on /v1/rag/query: managed prompts apply to /v1/chat/completions only']);
  });

  it('a prompt_id on /v1/messages with an unknown key is that key\'s 401 first, as on chat', async () => {
    const denied = await refusal({ model: 'small', max_tokens: 10, prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }, '/v1/messages', 'sk-not-a-real-key-0001');
    expect([denied.status, denied.error.type]).toEqual([401, 'authentication_error']);
    expect(denied.error.message).toContain('Authentication Error, Invalid proxy server token passed');
  });
});
