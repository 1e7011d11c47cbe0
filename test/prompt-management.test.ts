import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { client, type Extra, fake, PROMPT_KEY, promptApi, refusal, sent, stack, usePromptStack } from './support/prompt-management-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's prompt management on /v1/chat/completions: config.yaml's prompts (inline dotprompt and the generic
// prompt API) named by prompt_id, merged into the call the provider receives, and a config without prompts.

usePromptStack();

describe('dotprompt prompts from config.yaml', () => {
  it("sends the rendered prompt before the caller's messages, with the prompt's settings, and no prompt fields", async () => {
    const answer = await client.chat.completions.create({
      model: 'small', temperature: 1.5, messages: [{ role: 'user', content: 'What is a derivative?' }],
      prompt_id: 'tutor', prompt_variables: { subject: 'calculus', level: 'first-year' },
    } as Extra);
    expect(answer.choices[0]?.message.content).toBe('echo: What is a derivative?');
    expect(sent()).toEqual({
      model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 64,
      messages: [
        { role: 'system', content: 'You tutor calculus for first-year students.' },
        { role: 'user', content: 'Start with calculus.' },
        { role: 'user', content: 'What is a derivative?' },
      ],
    });
  });

  it("takes the prompt's model (the key's access is checked on it) and needs no messages from the caller", async () => {
    await client.chat.completions.create({ model: 'small', prompt_id: 'routed', prompt_variables: { lang: 'French' } } as unknown as Extra);
    expect(sent()).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Answer in French.' }] });
    const smallOnly = await seedKey(stack.db.url, { models: ['small'] });
    const denied = await refusal({ model: 'small', prompt_id: 'routed', prompt_variables: { lang: 'French' } }, '/chat/completions', smallOnly);
    expect(denied.status).toBe(401);
    expect(denied.error.message).toContain('big');
  });

  it('refuses unknown prompts, templates with blocks and integrations not built with 400s, sending nothing', async () => {
    const unknown = await refusal({ model: 'small', prompt_id: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect([unknown.status, unknown.error.param, unknown.error.message]).toEqual([400, 'prompt_id', 'prompt_id "nope" is not a prompt of config.yaml\'s prompts nor a stored prompt (/prompts)']);
    const looping = await refusal({ model: 'small', prompt_id: 'looping', prompt_variables: { items: [1, 2] } });
    expect(looping.status).toBe(400);
    expect(looping.error.message).toContain('{% for x in items %}');
    const humanloop = await refusal({ model: 'small', prompt_id: 'humanloop-one', messages: [{ role: 'user', content: 'hi' }] });
    expect([humanloop.status, humanloop.error.message]).toEqual([400, 'prompt "humanloop-one" cannot be used: its prompt_integration "humanloop" is not supported by Tollgate yet']);
  });
});

describe('generic_prompt_management', () => {
  it('GETs the prompt with its query params and bearer key, substitutes {vars}, and merges as LiteLLM', async () => {
    await client.chat.completions.create({
      model: 'small', temperature: 0.1, messages: [{ role: 'user', content: 'go' }], prompt_id: 'remote', prompt_variables: { task: 'taxes' },
    } as Extra);
    const asked = promptApi.requests.at(-1)!;
    expect(asked.query).toEqual({ prompt_id: 'remote', project_name: 'litellm', slug: 'hello-world' });
    expect(asked.headers.authorization).toBe(`Bearer ${PROMPT_KEY}`);
    expect(sent()).toEqual({
      model: 'gpt-4o', temperature: 0.7, max_tokens: 500,
      messages: [{ role: 'system', content: 'You help with taxes.' }, { role: 'user', content: 'Task: taxes' }, { role: 'user', content: 'go' }],
    });
    // The answer is kept per isolate: the next call does not ask again, and still gets its own variables.
    const asks = promptApi.requests.length;
    await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'go' }], prompt_id: 'remote', prompt_variables: { task: 'rent' } } as Extra);
    expect(promptApi.requests.length).toBe(asks);
    expect((sent().messages as { content: string }[])[0]!.content).toBe('You help with rent.');
  });

  it("a prompt API's 500 is a 502 and a hang a 504 after the prompt's timeout; the call is never sent without its prompt", async () => {
    const down = await refusal({ model: 'small', prompt_id: 'remote-down', messages: [{ role: 'user', content: 'hi' }] });
    expect([down.status, down.error.type, down.error.message]).toEqual([502, 'api_error', 'prompt "remote-down": the prompt API answered 500']);
    const started = Date.now();
    const hang = await refusal({ model: 'small', prompt_id: 'remote-hang', messages: [{ role: 'user', content: 'hi' }] });
    expect([hang.status, hang.error.type]).toEqual([504, 'timeout_error']);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const e of [down, hang]) expect(JSON.stringify(e)).not.toContain(PROMPT_KEY);
  });
});

describe('with no prompts in config.yaml', () => {
  let bare: TestStack;
  beforeAll(async () => {
    bare = await startTestStack({
      configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up}
`,
    });
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it('a prompt_id is a 400 and the call is not sent', async () => {
    const before = fake.requests.length;
    const res = await fetch(`${bare.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'small', prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const { error } = await res.json() as { error: { param: string; message: string } };
    expect([res.status, error.param, error.message]).toEqual([400, 'prompt_id', 'prompt_id "tutor" is not a prompt of config.yaml\'s prompts nor a stored prompt (/prompts)']);
    expect(fake.requests.length).toBe(before);
  });

  it('a prompt_id with an unknown key is that key\'s 401 first, as LiteLLM authenticates first', async () => {
    const res = await fetch(`${bare.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer sk-not-a-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'small', prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const { error } = await res.json() as { error: { param: string; message: string } };
    expect([res.status, error.param, error.message]).toEqual([401, 'key', expect.stringContaining('Authentication Error, Invalid proxy server token passed')]);
  });
});
