// withManagedPrompt on a chat body naming a dotprompt of config.yaml's or a stored prompt (/prompts); generic_prompt_management in apply-generic.test.ts.
import { describe, expect, it } from 'vitest';
import { withManagedPrompt } from './apply.ts';
import { failure, prompts } from './apply.fixture.ts';
import { promptsSchema } from './schema.ts';

describe('a chat body naming a prompt', () => {
  it("puts the prompt's messages first; its model and settings win over the request's, as LiteLLM merges them", async () => {
    const body = { model: 'mini', temperature: 1, user: 'u1', prompt_id: 'helper', prompt_variables: { topic: 'maths' }, messages: [{ role: 'user', content: '2+2?' }] };
    expect(await withManagedPrompt(body, prompts)).toEqual({
      ...body, model: 'gpt-4o', temperature: 0.2, messages: [{ role: 'system', content: 'Help with maths.' }, { role: 'user', content: '2+2?' }],
    });
  });

  it('keeps the request model and settings when the prompt says to ignore its own', async () => {
    const out = await withManagedPrompt({ model: 'mini', temperature: 1, prompt_id: 'keep' }, prompts);
    expect(out).toMatchObject({ model: 'mini', temperature: 1, messages: [{ role: 'system', content: 'Fixed.' }] });
  });

  it("sends a prompt's provider settings only: nothing that steers the gateway, names the caller or replaces the model", async () => {
    const steering = promptsSchema.parse([{ prompt_id: 'steer', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: [
      '---', 'temperature: 0.3', 'top_k: 5', 'mock_response: hi', 'user: someone', 'metadata: {"tags": ["x"]}', 'tags: [free]', 'fallbacks: [big]',
      'num_retries: 9', 'timeout: 1', 'no-log: true', 'cache: {no-cache: true}', 'model: gpt-4o', 'messages: []', 'stream: true',
      'litellm_metadata: {}', 'api_base: http://evil', 'input_cost_per_token: 0', '---', 'System: hi',
    ].join('\n') } }]);
    const out = await withManagedPrompt({ model: 'mini', prompt_id: 'steer', messages: [{ role: 'user', content: 'q' }] }, steering);
    expect(out).toEqual({ model: 'gpt-4o', prompt_id: 'steer', temperature: 0.3, top_k: 5, messages: [{ role: 'system', content: 'hi' }, { role: 'user', content: 'q' }] });
    const kept = await withManagedPrompt({ model: 'mini', prompt_id: 'steer' }, [{ ...steering[0]!, litellm_params: { ...steering[0]!.litellm_params, ignore_prompt_manager_model: true } }]);
    expect(kept.model).toBe('mini');
  });

  it('leaves a body without prompt_id as it is', async () => {
    const body = { model: 'm', messages: [] };
    expect(await withManagedPrompt(body, prompts)).toBe(body);
  });

  it('refuses an unknown prompt, an integration not built, and malformed prompt fields with 400s', async () => {
    expect((await failure(withManagedPrompt({ prompt_id: 'nope' }, prompts))).message).toMatch(/"nope" is not a prompt/);
    expect((await failure(withManagedPrompt({ prompt_id: 'hl' }, prompts))).message).toMatch(/"humanloop" is not supported/);
    expect((await failure(withManagedPrompt({ prompt_id: 'helper', prompt_variables: ['x'] }, prompts))).param).toBe('prompt_variables');
    expect((await failure(withManagedPrompt({ prompt_id: 7 }, prompts))).status).toBe(400);
  });
});

describe('a chat body naming a stored prompt (/prompts)', () => {
  const v1 = { prompt_id: 'greet', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: 'System: First.' } };
  const v2 = { prompt_id: 'greet', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: 'System: Second.' } };
  const asked: [string, string | undefined][] = [];
  const stored = async (id: string, version: string | undefined) => {
    asked.push([id, version]);
    if (id === 'greet' && version === undefined) return { spec: v2, version: 2, versionTaken: false };
    if ((id === 'greet' && version === '1') || id === 'greet.v1') return { spec: v1, version: 1, versionTaken: true };
    return undefined;
  };

  it("is found after config.yaml's, which wins for its own ids and is never looked up", async () => {
    const out = await withManagedPrompt({ model: 'mini', prompt_id: 'greet', messages: [{ role: 'user', content: 'q' }] }, prompts, undefined, fetch, stored);
    expect(out.messages).toEqual([{ role: 'system', content: 'Second.' }, { role: 'user', content: 'q' }]);
    asked.length = 0;
    const configured = await withManagedPrompt({ model: 'mini', prompt_id: 'helper', prompt_variables: { topic: 't' } }, prompts, undefined, fetch, stored);
    expect([configured.model, asked]).toEqual(['gpt-4o', []]);
  });

  it('a version by `<id>.v<n>` or a dotprompt\'s prompt_version; none stored is the 400 naming both places', async () => {
    for (const body of [{ prompt_id: 'greet.v1' }, { prompt_id: 'greet', prompt_version: 1 }]) {
      expect((await withManagedPrompt({ model: 'mini', ...body }, prompts, undefined, fetch, stored)).messages).toEqual([{ role: 'system', content: 'First.' }]);
    }
    const unknown = await failure(withManagedPrompt({ model: 'mini', prompt_id: 'nope' }, prompts, undefined, fetch, stored));
    expect([unknown.status, unknown.param, unknown.message]).toEqual([400, 'prompt_id', 'prompt_id "nope" is not a prompt of config.yaml\'s prompts nor a stored prompt (/prompts)']);
  });

  it('the lookup gets the key check (to run before it waits for the database); without a lookup the 400 names config.yaml alone', async () => {
    const check = async () => undefined;
    let given: unknown;
    await withManagedPrompt({ model: 'mini', prompt_id: 'greet' }, prompts, check, fetch, async (id, version, confirm) => {
      given = confirm;
      return stored(id, version);
    });
    expect(given).toBe(check);
    const none = await failure(withManagedPrompt({ model: 'mini', prompt_id: 'nope' }, prompts, check, fetch, undefined));
    expect([none.status, none.message]).toEqual([400, 'prompt_id "nope" is not a prompt of config.yaml\'s prompts']);
  });
});
