import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { api, dotprompt, generateKey, type Json, promptTableScans, rows, settledScans } from './support/prompt-management-db.ts';
import { stack, usePromptStack } from './support/prompt-management-stack.ts';

// Prompts stored through /prompts: who may write and read them, and what a caller without a usable key can make the gateway do (what a write refuses: prompt-management-db-refusals.test.ts; their secrets: prompt-management-db-secrets.test.ts).

usePromptStack();

describe('who may change or read them', () => {
  it("anyone but a proxy admin is refused writes with LiteLLM's 403, lists none and reads none", async () => {
    await api('/prompts', { method: 'POST', body: { prompt_id: 'db-private', litellm_params: dotprompt('System: Private.') } });
    const key = await generateKey({ models: ['small'] });
    const writes = [
      [await api('/prompts', { method: 'POST', key, body: { prompt_id: 'x', litellm_params: dotprompt('Hi') } }), 'Only proxy admins can create prompts'],
      [await api('/prompts/db-private', { method: 'PUT', key, body: { litellm_params: dotprompt('Hi') } }), 'Only proxy admins can update prompts'],
      [await api('/prompts/db-private', { method: 'PATCH', key, body: { litellm_params: dotprompt('Hi') } }), 'Only proxy admins can patch prompts'],
      [await api('/prompts/db-private', { method: 'DELETE', key }), 'Only proxy admins can delete prompts'],
      [await api('/prompts/db-private/versions', { key }), 'Only proxy admins can view prompt versions'],
    ] as const;
    for (const [res, message] of writes) expect([res.status, res.json.error.message]).toEqual([403, message]);
    expect((await api('/prompts/list', { key })).json).toEqual({ prompts: [] });
    expect((await api('/prompts/db-private/info', { key })).status).toBe(403);
    expect((await rows('db-private')).length).toBe(1);
  });

  it("a key whose metadata lists prompts lists and reads those only", async () => {
    for (const n of [1, 2, 3, 4]) await api('/prompts', { method: 'POST', body: { prompt_id: 'db-race', litellm_params: dotprompt(`System: Take ${n}.`) } });
    const key = await generateKey({ models: ['small'], metadata: { prompts: ['db-private.v1', 'tutor', 'db-race', 'db-race.v2', 'nope'] } });
    const before = await settledScans();
    const listed = await api('/prompts/list', { key });
    expect((listed.json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['db-private.v1', 'tutor', 'db-race.v4', 'db-race.v2']);
    // The stored ones in one read of the table, however many the key lists.
    expect(await settledScans() - before).toBe(1);
    expect((await api('/prompts/db-private.v1', { key })).status).toBe(200);
    // However many it lists: LiteLLM returns them all.
    const many = await generateKey({ models: ['small'], metadata: { prompts: [...Array.from({ length: 120 }, (_, i) => `none-${i}`), 'db-private.v1'] } });
    expect(((await api('/prompts/list', { key: many })).json.prompts as Json[]).map((p) => p.prompt_id)).toEqual(['db-private.v1']);
    const other = await api('/prompts/db-race.v1', { key });
    expect([other.status, other.json.error.message]).toEqual([400, 'Prompt db-race.v1 not found']);
  });
});

describe('what a caller without a usable key can make the gateway do', () => {
  it('an unknown key naming a prompt no isolate knows gets its 401, and the gateway reads no stored prompts', async () => {
    const before = await settledScans();
    for (const n of [1, 2, 3]) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-garbage', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'small', prompt_id: `rand-${n}`, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(res.status).toBe(401);
    }
    expect(await settledScans()).toBe(before);
    // A usable key naming one does make it read (the count would have shown the reads).
    expect((await api('/v1/chat/completions', { method: 'POST', body: { model: 'small', prompt_id: 'rand-4', messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(400);
    await eventually(async () => ((await promptTableScans()) > before ? true : undefined));
  });
});
