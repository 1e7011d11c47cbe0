import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { api, appliesSoon, dotprompt, type Json, rows, systemSent } from './support/prompt-management-db.ts';
import { sent, stack, usePromptStack } from './support/prompt-management-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

// Prompts stored through LiteLLM's prompt management API (/prompts, LiteLLM_PromptTable), beside config.yaml's
// prompts: written by the admin Worker, versioned, applied by chat calls through the gateway (official client).
// Who may write and read them: prompt-management-db-access.test.ts; what a write refuses: prompt-management-db-refusals.test.ts; their secrets: prompt-management-db-secrets.test.ts.

usePromptStack();

describe('prompts stored through /prompts', () => {
  it('POST stores version 1 in LiteLLM_PromptTable, shown as <id>.v1 with prompt_type "db"', async () => {
    const created = await api('/prompts', { method: 'POST', body: { prompt_id: 'db-greet', litellm_params: { prompt_id: 'db-greet', ...dotprompt('---\ntemperature: 0.3\n---\nSystem: Greet {{name}} kindly.') }, prompt_info: { description: 'first' } } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ prompt_id: 'db-greet.v1', version: 1, environment: 'development', created_by: 'default_user_id', prompt_info: { prompt_type: 'db', description: 'first' } });
    expect(await rows('db-greet')).toMatchObject([{ prompt_id: 'db-greet', version: 1, environment: 'development', created_by: 'default_user_id' }]);
  });

  it("lists the latest version of every prompt, config.yaml's too, and gives one with its template", async () => {
    const listed = await api('/prompts/list');
    const byId = Object.fromEntries((listed.json.prompts as Json[]).map((p) => [p.prompt_id, p.prompt_info.prompt_type]));
    expect(byId).toMatchObject({ tutor: 'config', remote: 'config', 'db-greet.v1': 'db' });
    for (const path of ['/prompts/db-greet.v1/info', '/prompts/db-greet.v1', '/prompts/db-greet']) {
      const info = await api(path);
      expect([info.status, info.json.prompt_spec.prompt_id]).toEqual([200, 'db-greet.v1']);
      expect(info.json.raw_prompt_template).toEqual({ litellm_prompt_id: 'db-greet', content: 'System: Greet {{name}} kindly.', metadata: { temperature: 0.3 } });
    }
    const config = await api('/prompts/tutor/info');
    expect(config.json.prompt_spec).toMatchObject({ prompt_id: 'tutor', prompt_info: { prompt_type: 'config' } });
  });

  it('a chat naming it gets its messages and settings; PUT makes v2, which bare-id calls then use, v1 still reachable', async () => {
    expect(await systemSent({ prompt_id: 'db-greet' })).toBe('Greet Ada kindly.');
    expect(sent()).toMatchObject({ temperature: 0.3, messages: [{ role: 'system', content: 'Greet Ada kindly.' }, { role: 'user', content: 'hello' }] });
    const put = await api('/prompts/db-greet', { method: 'PUT', body: { prompt_id: 'db-greet', litellm_params: dotprompt('System: Welcome {{name}}.') } });
    expect([put.status, put.json.prompt_id, put.json.version]).toEqual([200, 'db-greet.v2', 2]);
    await appliesSoon({ prompt_id: 'db-greet' }, 'Welcome Ada.');
    expect(await systemSent({ prompt_id: 'db-greet.v1' })).toBe('Greet Ada kindly.');
    expect(await systemSent({ prompt_id: 'db-greet', prompt_version: 1 })).toBe('Greet Ada kindly.');
    const badVersion = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'db-greet', prompt_version: 'latest', messages: [{ role: 'user', content: 'hi' }] } });
    expect([badVersion.status, badVersion.json.error.param, badVersion.json.error.message]).toEqual([400, 'prompt_version', 'prompt_version "latest" is not a version of stored prompt "db-greet" (its versions: 1, 2)']);
    const versions = await api('/prompts/db-greet/versions');
    expect((versions.json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['db-greet.v2', 'db-greet.v1']);
    expect((await api('/prompts/nope/versions')).status).toBe(404);
    // A config prompt's versions by a versioned id, as LiteLLM strips the suffix.
    expect(((await api('/prompts/tutor.v1/versions')).json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['tutor']);
    expect((await api('/prompts/nope', { method: 'PUT', body: { litellm_params: dotprompt('x') } })).status).toBe(404);
  });

  it('PATCH changes that version in place', async () => {
    const patched = await api('/prompts/db-greet.v2', { method: 'PATCH', body: { litellm_params: dotprompt('System: Hello {{name}}!'), prompt_info: { description: 'patched' } } });
    expect([patched.status, patched.json.prompt_id, patched.json.prompt_info]).toEqual([200, 'db-greet.v2', { description: 'patched', prompt_type: 'db' }]);
    expect((await rows('db-greet')).map((r) => r.version)).toEqual([1, 2]);
    await appliesSoon({ prompt_id: 'db-greet.v2' }, 'Hello Ada!');
  });

  it('two creates of one prompt at once take different versions', async () => {
    const made = await Promise.all([1, 2, 3, 4].map((n) => api('/prompts', { method: 'POST', body: { prompt_id: 'db-race', litellm_params: dotprompt(`System: Take ${n}.`) } })));
    expect(made.map((m) => m.status)).toEqual([200, 200, 200, 200]);
    expect(made.map((m) => m.json.version).sort()).toEqual([1, 2, 3, 4]);
    expect((await rows('db-race')).length).toBe(4);
  });

  it('DELETE of <id>.v<n> removes that version, of a bare id every version; calls then stop applying it', async () => {
    const one = await api('/prompts/db-greet.v1', { method: 'DELETE' });
    expect([one.status, one.json]).toEqual([200, { message: 'Prompt db-greet.v1 deleted successfully' }]);
    expect((await rows('db-greet')).map((r) => r.version)).toEqual([2]);
    const gone = await eventually(async () => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'small', prompt_id: 'db-greet.v1', messages: [{ role: 'user', content: 'hi' }] }) });
      return res.status === 400 ? await res.json() as Json : undefined;
    });
    expect(gone.error).toMatchObject({ param: 'prompt_id', message: 'prompt_id "db-greet.v1" is not a version of stored prompt "db-greet" (its versions: 2)' });
    expect((await api('/prompts/db-greet', { method: 'DELETE' })).json).toEqual({ message: 'Prompt db-greet deleted successfully' });
    expect(await rows('db-greet')).toEqual([]);
    expect((await api('/prompts/db-greet', { method: 'DELETE' })).status).toBe(404);
    const none = await eventually(async () => {
      const res = await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'db-greet', messages: [{ role: 'user', content: 'hi' }] } });
      return res.status === 400 ? res.json : undefined;
    });
    expect(none.error.message).toBe('prompt_id "db-greet" is not a prompt of config.yaml\'s prompts nor a stored prompt (/prompts)');
  });
});

describe('writes of one prompt at once', () => {
  it('a DELETE racing a PUT leaves nothing: it waits for the PUT and deletes its version too, or the PUT finds no prompt', async () => {
    for (let round = 0; round < 5; round++) {
      expect((await api('/prompts', { method: 'POST', body: { prompt_id: 'db-gone', litellm_params: dotprompt('System: One.') } })).status).toBe(200);
      const [put, del] = await Promise.all([
        api('/prompts/db-gone', { method: 'PUT', body: { litellm_params: dotprompt('System: Two.') } }),
        api('/prompts/db-gone', { method: 'DELETE' }),
      ]);
      expect(del.status).toBe(200);
      expect([200, 404]).toContain(put.status);
      expect(await rows('db-gone')).toEqual([]);
    }
  });
});
