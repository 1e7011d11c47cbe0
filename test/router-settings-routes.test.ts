import { beforeAll, describe, expect, it } from 'vitest';
import { ARGS_SECRET, REDIS_SECRET, useFallbackRoutesStack } from './support/fallback-routes-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

// LiteLLM's router settings reads (/router/settings, /router/fields) and what the fallback routes (/fallback) owe
// every caller: roles, group names with / and %, an audit of a group named like a secret, concurrent writes. (Writes,
// deletes and the gateway falling back: fallback-routes.test.ts.)

const { admin, row } = useFallbackRoutesStack();

// Starts where the fallback suite leaves the row: config.yaml's fallbacks deleted (an empty list laid over them), so
// the settings in effect show only the writes made here.
beforeAll(async () => {
  await admin.ok('/fallback/group-c', undefined, TEST_MASTER_KEY, { method: 'DELETE' });
});

describe('GET /router/settings and /router/fields', () => {
  it('give the settings in effect (config.yaml\'s with the row over them) with their definitions, never a secret', async () => {
    await admin.ok('/fallback', { model: 'group-a', fallback_models: ['group-b'] });
    const settings = await admin.ok('/router/settings');
    expect(settings.current_values).toMatchObject({ routing_strategy: 'least-busy', num_retries: 0, disable_cooldowns: true, fallbacks: [{ 'group-a': ['group-b'] }] });
    const strategy = settings.fields.find((f: { field_name: string }) => f.field_name === 'routing_strategy');
    expect(strategy).toMatchObject({ field_value: 'least-busy', field_type: 'String', ui_field_name: 'Routing Strategy', field_default: 'simple-shuffle' });
    expect(strategy.options).toContain('latency-based-routing');
    expect(Object.keys(settings.routing_strategy_descriptions)).toEqual(strategy.options);
    expect(JSON.stringify(settings)).not.toContain(REDIS_SECRET);
    expect(JSON.stringify(settings)).not.toContain('redis_password');
    // Of routing_strategy_args only what the gateway acts on: config.yaml's other arguments may hold secrets.
    expect(settings.current_values.routing_strategy_args).toEqual({ lowest_latency_buffer: 0.2 });
    expect(settings.fields.find((f: { field_name: string }) => f.field_name === 'routing_strategy_args').field_value).toEqual({ lowest_latency_buffer: 0.2 });
    expect(JSON.stringify(settings)).not.toContain(ARGS_SECRET);
    expect(JSON.stringify(settings)).not.toContain('redis_url');

    const fields = await admin.ok('/router/fields');
    expect(fields.fields.map((f: { field_name: string }) => f.field_name)).toEqual(settings.fields.map((f: { field_name: string }) => f.field_name));
    expect(fields.fields.every((f: { field_value: unknown }) => f.field_value === null)).toBe(true);
    expect(fields.current_values).toBeUndefined();
  });
});

describe('who may call', () => {
  it('lets proxy admins write, their viewers read, and no one else', async () => {
    const user = await admin.ok('/user/new', { user_id: 'ned', user_role: 'internal_user' });
    const viewer = await admin.ok('/user/new', { user_id: 'vic', user_role: 'proxy_admin_viewer' });
    const before = await row();
    for (const key of [user.key, viewer.key]) {
      expect((await admin.call('/fallback', { model: 'group-c', fallback_models: ['db-group'] }, key)).status).toBe(403);
      expect((await admin.call('/fallback/group-a', undefined, key, { method: 'DELETE' })).status).toBe(403);
    }
    for (const path of ['/fallback/group-a', '/router/settings', '/router/fields']) {
      expect((await admin.call(path, undefined, viewer.key)).status, path).toBe(200);
      expect((await admin.call(path, undefined, user.key)).status, path).toBe(403);
    }
    expect(await row()).toEqual(before);
  });
});

describe('group names and concurrent writes', () => {
  const del = (path: string) => admin.call(path, undefined, TEST_MASTER_KEY, { method: 'DELETE' });

  it('serves groups named with / and % through the gateway: POST, GET (the name as the path, % escaped), DELETE', async () => {
    await admin.ok('/fallback', { model: 'openai/gpt-4o', fallback_models: ['50%-off'] });
    await admin.ok('/fallback', { model: '50%-off', fallback_models: ['openai/gpt-4o'] });
    expect((await row()).fallbacks).toEqual(expect.arrayContaining([{ 'openai/gpt-4o': ['50%-off'] }, { '50%-off': ['openai/gpt-4o'] }]));
    expect(await admin.ok('/fallback/openai/gpt-4o')).toEqual({ model: 'openai/gpt-4o', fallback_models: ['50%-off'], fallback_type: 'general' });
    expect((await admin.ok('/fallback/openai%2Fgpt-4o')).fallback_models).toEqual(['50%-off']);
    expect(await admin.ok('/fallback/50%25-off')).toEqual({ model: '50%-off', fallback_models: ['openai/gpt-4o'], fallback_type: 'general' });

    expect((await del('/fallback/openai/gpt-4o')).body).toMatchObject({ model: 'openai/gpt-4o', message: 'Fallback configuration deleted successfully' });
    expect((await del('/fallback/50%25-off')).body).toMatchObject({ model: '50%-off', message: 'Fallback configuration deleted successfully' });
    expect((await admin.call('/fallback/openai/gpt-4o')).status).toBe(404);
    expect((await admin.call('/fallback/50%25-off')).status).toBe(404);
    const names = (await row()).fallbacks.flatMap((entry: Record<string, string[]>) => Object.keys(entry));
    expect(names).not.toContain('openai/gpt-4o');
    expect(names).not.toContain('50%-off');
  });

  it('audits a group named like a secret (azure-key) with its fallbacks, never [redacted]', async () => {
    await admin.ok('/fallback', { model: 'azure-key', fallback_models: ['group-b'] });
    const audit = (await admin.audits('router_settings')).at(-1)!;
    expect(audit.updated_values.fallbacks).toContainEqual({ 'azure-key': ['group-b'] });
    expect(JSON.stringify(audit)).not.toContain('[redacted]');
  });

  it('keeps every group\'s entry when writes for different groups run at once', async () => {
    const writes = [['group-a', 'group-b'], ['group-b', 'group-c'], ['group-c', 'db-group'], ['db-group', 'group-a']];
    const answers = await Promise.all(writes.map(([model, to]) => admin.call('/fallback', { model, fallback_models: [to], fallback_type: 'content_policy' })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const list = (await row()).content_policy_fallbacks;
    expect(list).toHaveLength(4);
    expect(list).toEqual(expect.arrayContaining(writes.map(([model, to]) => ({ [model!]: [to] }))));
  });
});
