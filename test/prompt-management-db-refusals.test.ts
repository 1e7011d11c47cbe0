import { describe, expect, it } from 'vitest';
import { query } from './support/pg-client.ts';
import { api, dotprompt, rows } from './support/prompt-management-db.ts';
import { promptApi, stack, usePromptStack } from './support/prompt-management-stack.ts';

// Prompts stored through /prompts: what a write refuses, and what the gateway's environment refuses at call time.

usePromptStack();

describe('what a write refuses', () => {
  it('litellm_params that could never run are a 400 in the OpenAI envelope, and nothing is written', async () => {
    const cases = [
      { prompt_integration: 'dotprompt' },
      { prompt_integration: 'humanloop' },
      { prompt_integration: 'generic_prompt_management' },
      dotprompt('{% for x in xs %}{{ x }}{% endfor %}'),
    ];
    for (const litellm_params of cases) {
      const res = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-bad', litellm_params } });
      expect([res.status, res.json.error.type, res.json.error.param]).toEqual([400, 'bad_request_error', 'litellm_params']);
    }
    expect(await rows('db-bad')).toEqual([]);
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-bad.v2', litellm_params: dotprompt('Hi') } })).status).toBe(400);
  });

  it('a new id with ".v" inside, which LiteLLM would split into a prompt and a version, is a 400 saying so', async () => {
    for (const id of ['my.very.prompt', 'a.vb']) {
      const res = await api('/prompts', { method: 'POST', body: { prompt_id: id, litellm_params: dotprompt('Hi') } });
      expect([res.status, res.json.error.param, res.json.error.message]).toEqual([400, 'prompt_id', `prompt_id "${id}" contains ".v": LiteLLM reads a stored prompt's id up to its first ".v" as the prompt and the rest as a version, so a database shared with LiteLLM would mistake it; choose an id without ".v"`]);
      expect(await rows(id)).toEqual([]);
    }
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'my.prompt', litellm_params: dotprompt('Hi') } })).status).toBe(200);
  });

  it("config.yaml's prompts are changed only there", async () => {
    expect((await api('/prompts/tutor', { method: 'DELETE' })).json.error.message).toBe('Cannot delete config prompts.');
    expect((await api('/prompts/tutor', { method: 'PUT', body: { litellm_params: dotprompt('Hi') } })).json.error.message).toBe('Cannot update config prompts.');
    expect((await api('/prompts/tutor', { method: 'PATCH', body: { litellm_params: dotprompt('Hi') } })).json.error.message).toBe('Cannot update config prompts.');
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'tutor', litellm_params: dotprompt('Hi') } })).status).toBe(400);
  });
});

describe("the gateway's environment, not the admin Worker's", () => {
  it('a write naming an os.environ/ variable is stored; a call is then a 400 naming the variable the gateway lacks', async () => {
    const created = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-env', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE' } } });
    expect([created.status, created.json.litellm_params.api_base]).toEqual([200, 'os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE']);
    // A Langfuse prompt relying on the gateway's LANGFUSE_* keys is stored too; this gateway has none.
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-env-lf', litellm_params: { prompt_integration: 'langfuse' } } })).status).toBe(200);
    for (const [id, message] of [
      ['db-env', 'stored prompt "db-env.v1" cannot be used: litellm_params.api_base is os.environ/TOLLGATE_TEST_UNSET_PROMPT_BASE, which is not set on the gateway'],
      ['db-env-lf', 'stored prompt "db-env-lf.v1" cannot be used: a Langfuse prompt without langfuse_public_key and langfuse_secret_key of its own needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (for LANGFUSE_HOST) set on the gateway'],
    ]) {
      const res = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: id, messages: [{ role: 'user', content: 'hi' }] } });
      expect([res.status, res.json.error.param, res.json.error.message]).toEqual([400, 'prompt_id', message]);
    }
  });

  it("a row naming the gateway's master key (written by SQL: the API refuses it) is refused at call time, the key never sent", async () => {
    const params = { prompt_integration: 'generic_prompt_management', api_base: promptApi.url, api_key: 'os.environ/LITELLM_MASTER_KEY' };
    expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-master', litellm_params: params } })).status).toBe(422);
    await query(stack.db.url, 'INSERT INTO "LiteLLM_PromptTable" (prompt_id, litellm_params) VALUES ($1, $2)', ['db-master', JSON.stringify(params)]);
    const asks = promptApi.requests.length;
    const res = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'db-master', messages: [{ role: 'user', content: 'hi' }] } });
    expect([res.status, res.json.error.message]).toEqual([400, 'stored prompt "db-master.v1" cannot be used: litellm_params.api_key is os.environ/LITELLM_MASTER_KEY, refused: the gateway\'s own secrets are never sent for a stored prompt']);
    expect(promptApi.requests.length).toBe(asks);
  });
});
