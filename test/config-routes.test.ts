import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { useConfigRoutesStack } from './support/config-routes-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's database-stored settings, written through /config/update: Tollgate stores only the router_settings the
// gateway overlays on config.yaml's (with store_model_in_db); every other field is refused. (/config/list's
// general_settings and /config/field/*: config-list.test.ts; the gateway honouring the stored row is tested with the router.)

const REDIS_SECRET = 'redis-secret-0123456789';
const ARGS_SECRET = 'args-secret-0123456789';
const { admin, row, update, listed } = useConfigRoutesStack();

describe('POST /config/update', () => {
  it('merges router_settings into the stored row key by key, keeping its other keys, audited; read back through /config/list', async () => {
    // A row as LiteLLM writes it (json.dumps: a jsonb string), with keys Tollgate does not store.
    await admin.rows('INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ($1, to_jsonb($2::text))',
      ['router_settings', JSON.stringify({ allowed_fails: 7, num_retries: 2, model_group_retry_policy: { x: 1 }, redis_password: REDIS_SECRET })]);
    const res = await update({ router_settings: { routing_strategy: 'least-busy', num_retries: '3', fallbacks: [{ 'mock-gpt': ['mock-b'] }], timeout: null } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ message: 'Config updated successfully' });
    const after = { allowed_fails: 7, num_retries: 3, model_group_retry_policy: { x: 1 }, redis_password: REDIS_SECRET, routing_strategy: 'least-busy', fallbacks: [{ 'mock-gpt': ['mock-b'] }] };
    expect(await row('router_settings')).toEqual(after);

    // Only the keys that changed are audited: the row's other keys (a LiteLLM-written password) stay out of /audit.
    const [audit] = await admin.audits('router_settings');
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_Config', changed_by: 'master_key' });
    expect(audit!.before_value).toEqual({ num_retries: 2 });
    expect(audit!.updated_values).toEqual({ num_retries: 3, routing_strategy: 'least-busy', fallbacks: [{ 'mock-gpt': ['mock-b'] }] });

    const router = await listed('router_settings');
    expect(router.routing_strategy).toMatchObject({ field_value: 'least-busy', stored_in_db: true, field_type: 'String' });
    expect(router.num_retries).toMatchObject({ field_value: 3, stored_in_db: true });
    expect(router.timeout).toMatchObject({ field_value: 30, stored_in_db: false });
    expect(router.cooldown_time).toMatchObject({ field_value: null, stored_in_db: null });
  });

  it('removes a stored key given null, so config.yaml\'s applies again; secrets redacted in the audit row', async () => {
    const res = await update({ router_settings: { num_retries: null, redis_password: null } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const stored = await row('router_settings');
    expect(stored).not.toHaveProperty('num_retries');
    expect(stored).not.toHaveProperty('redis_password');
    expect(stored).toMatchObject({ allowed_fails: 7, routing_strategy: 'least-busy' });
    const audits = await admin.audits('router_settings');
    expect(audits.at(-1)!.before_value).toEqual({ num_retries: 3, redis_password: '[redacted]' });
    expect(audits.at(-1)!.updated_values).toEqual({});
    expect(JSON.stringify(audits)).not.toContain(REDIS_SECRET);
    expect((await listed('router_settings')).num_retries).toMatchObject({ field_value: 1, stored_in_db: false });

    // Nothing to change: no audit row.
    expect((await update({ router_settings: { num_retries: null } })).status).toBe(200);
    expect(await admin.audits('router_settings')).toHaveLength(audits.length);
  });

  it('stores two concurrent updates of different keys, both, with an audit row each', async () => {
    const audits = (await admin.audits('router_settings')).length;
    const [a, b] = await Promise.all([update({ router_settings: { cooldown_time: 11 } }), update({ router_settings: { max_fallbacks: 4 } })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await row('router_settings')).toMatchObject({ cooldown_time: 11, max_fallbacks: 4, allowed_fails: 7 });
    const rows = (await admin.audits('router_settings')).slice(audits);
    expect(rows.map((r) => r.updated_values)).toEqual(expect.arrayContaining([{ cooldown_time: 11 }, { max_fallbacks: 4 }]));
    expect(rows).toHaveLength(2);
  });

  it('refuses values the gateway would ignore with a 400 naming the path, changing nothing', async () => {
    const before = await row('router_settings');
    const audits = (await admin.audits('router_settings')).length;
    for (const [router, path] of [
      [{ retry_policy: { TimeoutErrorRetries: 1, TimeoutRetries: 2 } }, 'router_settings.retry_policy.TimeoutRetries'],
      [{ model_group_affinity_config: { 'mock-gpt': ['prompt_caching'] } }, 'router_settings.model_group_affinity_config.mock-gpt'],
      [{ optional_pre_call_checks: ['forward_client_headers_by_model_group'] }, 'router_settings.optional_pre_call_checks'],
    ] as const) {
      const res = await update({ router_settings: router });
      expect(res.status, JSON.stringify(router)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param: path });
    }
    expect(await row('router_settings')).toEqual(before);
    expect(await admin.audits('router_settings')).toHaveLength(audits);
  });

  it('warns of fallbacks to a blocked database model, which serves nothing', async () => {
    await admin.rows('INSERT INTO "LiteLLM_ProxyModelTable" (model_name, litellm_params, blocked) VALUES ($1, $2::jsonb, true)', ['blocked-group', JSON.stringify({ model: 'mock/mock-gpt' })]);
    const res = await update({ router_settings: { content_policy_fallbacks: [{ 'mock-gpt': ['blocked-group'] }] } });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual(['router_settings.content_policy_fallbacks[0]: model group "blocked-group" is not in model_list (it must be added through /model/new)']);
  });

  it('warns of fallbacks naming a model group neither config.yaml nor the database has, as config.yaml is warned', async () => {
    const res = await update({ router_settings: { context_window_fallbacks: [{ 'mock-gpt': ['ghost-group'] }] } });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual(['router_settings.context_window_fallbacks[0]: model group "ghost-group" is not in model_list (it must be added through /model/new)']);
    expect((await row('router_settings')).context_window_fallbacks).toEqual([{ 'mock-gpt': ['ghost-group'] }]);
  });

  it('refuses a value config.yaml would refuse with a 422 naming the field, changing nothing', async () => {
    const before = await row('router_settings');
    const audits = (await admin.audits('router_settings')).length;
    for (const [router, field] of [
      [{ routing_strategy: 'fastest' }, 'router_settings.routing_strategy'],
      [{ num_retries: 'many' }, 'router_settings.num_retries'],
      [{ fallbacks: [{}] }, 'router_settings.fallbacks[0]'],
      [{ num_retries: 4, fallbacks: [{ 'mock-gpt': 'mock-b' }] }, 'router_settings.fallbacks[0].mock-gpt'],
    ] as const) {
      const res = await update({ router_settings: router });
      expect(res.status, JSON.stringify(router)).toBe(422);
      expect(res.body.error).toMatchObject({ type: 'validation_error', param: field });
      expect(res.body.error.message).toContain(field);
    }
    expect((await update('[1, 2]')).status).toBe(422);
    expect(await row('router_settings')).toEqual(before);
    expect(await admin.audits('router_settings')).toHaveLength(audits);
  });

  it('refuses the sections Tollgate reads from config.yaml with a 400 naming each field, changing nothing', async () => {
    const before = await row('router_settings');
    const res = await update({
      router_settings: { num_retries: 5 },
      general_settings: { max_parallel_requests: 5 },
      litellm_settings: { drop_params: true },
      environment_variables: { OPENAI_API_KEY: 'sk-env-secret-0123456789' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'bad_request_error', param: 'general_settings.max_parallel_requests' });
    for (const field of ['general_settings.max_parallel_requests', 'litellm_settings.drop_params', 'environment_variables.OPENAI_API_KEY']) expect(res.body.error.message).toContain(field);
    expect(res.body.error.message).toContain('config.yaml');
    expect(JSON.stringify(res.body)).not.toContain('sk-env-secret');
    expect(await row('router_settings')).toEqual(before);
    for (const name of ['general_settings', 'litellm_settings', 'environment_variables']) expect(await row(name)).toBeUndefined();
  });

  it('lists the router settings in effect, as the gateway lays the row over config.yaml\'s', async () => {
    await admin.rows(`UPDATE "LiteLLM_Config" SET param_value = param_value || $1::jsonb WHERE param_name = 'router_settings'`,
      [JSON.stringify({ retry_policy: { TimeoutErrorRetries: 1 }, timeout: 'soon' })]);
    const router = await listed('router_settings');
    expect(router.retry_policy).toMatchObject({ field_value: { RateLimitErrorRetries: 3, TimeoutErrorRetries: 1 }, stored_in_db: true });
    // A stored value the gateway ignores leaves config.yaml's in effect.
    expect(router.timeout).toMatchObject({ field_value: 30, stored_in_db: false });
    expect((await update({ router_settings: { retry_policy: null, timeout: null } })).status).toBe(200);
  });

  it('audits a removed key Tollgate does not store as [redacted] whatever its name, and strategy arguments it does not act on not at all', async () => {
    // As LiteLLM may write them: a Redis URL with its password, a strategy argument holding one.
    await admin.rows(`UPDATE "LiteLLM_Config" SET param_value = param_value || $1::jsonb WHERE param_name = 'router_settings'`,
      [JSON.stringify({ redis_url: `redis://:${REDIS_SECRET}@cache:6379`, routing_strategy_args: { lowest_latency_buffer: 0.1, cache_url: `redis://:${REDIS_SECRET}@h` } })]);
    const router = await listed('router_settings');
    expect(router.routing_strategy_args).toMatchObject({ field_value: { lowest_latency_buffer: 0.1 }, stored_in_db: true });
    expect(JSON.stringify(router)).not.toContain(REDIS_SECRET);
    const res = await update({ router_settings: { redis_url: null, routing_strategy_args: null } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await row('router_settings')).not.toHaveProperty('redis_url');
    const audits = await admin.audits('router_settings');
    expect(audits.at(-1)!.before_value).toEqual({ redis_url: '[redacted]', routing_strategy_args: { lowest_latency_buffer: 0.1 } });
    expect(audits.at(-1)!.updated_values).toEqual({});
    expect(JSON.stringify(audits)).not.toContain(REDIS_SECRET);
  });

  it('lets proxy admins write, their viewers read, and no one else', async () => {
    const user = await admin.ok('/user/new', { user_id: 'ned', user_role: 'internal_user' });
    const viewer = await admin.ok('/user/new', { user_id: 'vic', user_role: 'proxy_admin_viewer' });
    const before = await row('router_settings');
    for (const key of [user.key, viewer.key]) {
      expect((await update({ router_settings: { num_retries: 9 } }, key)).status).toBe(403);
      expect((await admin.call('/config/field/update', { field_name: 'max_request_size_mb', field_value: 1, config_type: 'general_settings' }, key)).status).toBe(403);
      expect((await admin.call('/config/field/delete', { field_name: 'max_request_size_mb', config_type: 'general_settings' }, key)).status).toBe(403);
    }
    expect((await admin.call('/config/list?config_type=router_settings', undefined, user.key)).status).toBe(403);
    expect((await admin.call('/config/list?config_type=router_settings', undefined, viewer.key)).status).toBe(200);
    expect(await row('router_settings')).toEqual(before);
  });
});

describe('without store_model_in_db', () => {
  let plain: TestStack;
  const plainAdmin = adminClient(() => plain);
  beforeAll(async () => {
    plain = await startTestStack({
      configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
router_settings: {num_retries: 1, routing_strategy_args: {lowest_latency_buffer: 0.2, cache_url: "redis://:${ARGS_SECRET}@h"}}
general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}
`,
    });
  }, 300_000);
  afterAll(async () => {
    await plain?.stop();
  });

  it("refuses to store router_settings the gateway would never read (LiteLLM's 500), writing nothing", async () => {
    const res = await plainAdmin.call('/config/update', { router_settings: { num_retries: 3 } });
    expect(res.status).toBe(500);
    expect(res.body.error.message).toBe("Set 'STORE_MODEL_IN_DB='True'' in your env to enable this feature.");
    expect(await plainAdmin.rows('SELECT * FROM "LiteLLM_Config" WHERE param_name = $1', ['router_settings'])).toEqual([]);
  });

  it("lists config.yaml's router settings, not a stored row the gateway never reads, nor strategy arguments it does not act on", async () => {
    await plainAdmin.rows('INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ($1, $2::jsonb)', ['router_settings', JSON.stringify({ num_retries: 7, timeout: 9 })]);
    const entries = await plainAdmin.ok('/config/list?config_type=router_settings') as { field_name: string }[];
    const router = Object.fromEntries(entries.map((e) => [e.field_name, e]));
    expect(router.num_retries).toMatchObject({ field_value: 1, stored_in_db: false });
    expect(router.timeout).toMatchObject({ field_value: null, stored_in_db: null });
    expect(router.routing_strategy_args).toMatchObject({ field_value: { lowest_latency_buffer: 0.2 }, stored_in_db: false });
    expect(JSON.stringify(entries)).not.toContain(ARGS_SECRET);
  });
});
