import { describe, expect, it } from 'vitest';
import type { Json } from './support/admin.ts';
import { eventually, seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { UNSHOWN, useModelHubStack } from './support/public-model-hub-stack.ts';
import { ACCESS_GROUP, BEDROCK_ARN, HEADER_SECRET, OWNER, TEAM_ID, UPSTREAM_SECRET } from './support/public-routes-stack.ts';

// The public model hub's stored list: POST /model_group/make_public (and /model_hub/update_useful_links) store it in
// LiteLLM_Config, the hub lists it within seconds, and no Postgres read per request.

const { stack, call, ok, rows, audits, hub, groupsListed, publicFlags } = useModelHubStack();

describe('POST /model_group/make_public', () => {
  it('is for proxy admins: another key gets LiteLLM\'s 403 and nothing changes', async () => {
    const key = await seedKey(stack().databaseUrl, { userId: 'someone' });
    const res = await call('/model_group/make_public', { model_groups: ['mock-gpt'] }, key);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ message: 'Only proxy admins can update public model groups. Your role=internal_user', type: 'auth_error' });
    expect(await rows('SELECT * FROM "LiteLLM_Config"')).toEqual([]);
  });

  it('refuses a body that is not a list of names (422), and a group nothing serves (400), naming it; nothing is stored', async () => {
    for (const body of [{}, { model_groups: 'mock-gpt' }, { model_groups: [''] }, { model_groups: [7] }]) {
      const res = await call('/model_group/make_public', body);
      // The admin API's (and LiteLLM's FastAPI) 422 for a body of the wrong shape, naming the field.
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error).toMatchObject({ type: 'validation_error', param: expect.stringContaining('model_groups') });
    }
    const typo = await call('/model_group/make_public', { model_groups: ['mock-gpt', 'gtp-4o'] });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({ message: expect.stringContaining('Unknown model groups: gtp-4o'), param: 'model_groups' });
    expect(await rows('SELECT * FROM "LiteLLM_Config"')).toEqual([]);
  });

  it('replaces the published list (a stored model\'s group too), keeps the row\'s other settings, audits it, and the hub lists it within seconds', async () => {
    await query(stack().databaseUrl, `INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', '{"success_callback": ["langfuse"]}')`);
    await ok('/model/new', { model_name: 'stored-gpt', litellm_params: { model: 'openai/gpt-4o-mini', api_key: UPSTREAM_SECRET, rpm: 5 } });
    const res = await ok('/model_group/make_public', { model_groups: ['stored-gpt', 'mock-gpt', 'stored-gpt'] });
    expect(res).toEqual({ message: 'Successfully updated public model groups', public_model_groups: ['stored-gpt', 'mock-gpt'], updated_by: null });
    const [row] = await rows('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = \'litellm_settings\'');
    expect(row?.param_value).toEqual({ success_callback: ['langfuse'], public_model_groups: ['stored-gpt', 'mock-gpt'] });
    const [audit] = await audits('litellm_settings.public_model_groups');
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_Config', changed_by: 'master_key' });
    expect(audit?.updated_values).toEqual({ public_model_groups: ['stored-gpt', 'mock-gpt'] });
    // /model_group/info on the admin Worker's isolate that stored it flags the stored list's groups, not config.yaml's, at once.
    expect(await publicFlags()).toEqual({ 'claude-arn': false, 'gpt-4o': false, 'mock-gpt': true, 'stored-gpt': true });

    const listed = await eventually(async () => {
      const groups = await hub();
      return groups.map((g) => g.model_group).join() === 'stored-gpt,mock-gpt' ? groups : undefined;
    }, 8_000);
    expect(listed[0]).toMatchObject({ model_group: 'stored-gpt', providers: ['openai'], rpm: 5 });
    expect(JSON.stringify(listed)).not.toContain(UPSTREAM_SECRET);
    expect(audit?.updated_values).toEqual({ public_model_groups: ['stored-gpt', 'mock-gpt'] });
    // /model_group/info on the admin Worker's isolate that stored it flags the stored list's groups, not config.yaml's, at once.
    expect(await publicFlags()).toEqual({ 'claude-arn': false, 'gpt-4o': false, 'mock-gpt': true, 'stored-gpt': true });
    // An empty list publishes nothing (it does not fall back to config.yaml's).
    await ok('/model_group/make_public', { model_groups: [] });
    await eventually(async () => ((await groupsListed()).length === 0 ? true : undefined), 8_000);
  });

  it('a /model/new model carrying private fields is listed with none of them', async () => {
    await ok('/model/new', {
      model_name: 'stored-arn',
      litellm_params: { model: `bedrock/${BEDROCK_ARN}`, api_base: 'https://llm.internal.example.invalid/v1', api_key: UPSTREAM_SECRET, extra_headers: { 'x-tenant': HEADER_SECRET }, rpm: 7 },
      model_info: { base_model: 'anthropic.claude-3-5-sonnet-20240620-v1:0', team_id: TEAM_ID, access_groups: [ACCESS_GROUP], owner_email: OWNER, supports_vision: true },
    });
    await ok('/model_group/make_public', { model_groups: ['stored-arn'] });
    const text = await eventually(async () => {
      const res = await fetch(`${stack().url}/public/model_hub`);
      const body = await res.text();
      return res.status === 200 && body.includes('"stored-arn"') ? body : undefined;
    }, 8_000);
    for (const secret of UNSHOWN) expect(text).not.toContain(secret);
    expect((JSON.parse(text) as Json[])[0]).toMatchObject({ model_group: 'stored-arn', providers: ['bedrock'], rpm: 7, supports_vision: true });
  });

  it('refuses (400) a group whose only /model/new model is blocked: it is never served, so it would never show', async () => {
    await ok('/model/new', { model_name: 'blocked-gpt', litellm_params: { model: 'openai/gpt-4o-mini', api_key: UPSTREAM_SECRET } });
    await query(stack().databaseUrl, `UPDATE "LiteLLM_ProxyModelTable" SET blocked = true WHERE model_name = 'blocked-gpt'`);
    const before = await rows('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = \'litellm_settings\'');
    const res = await call('/model_group/make_public', { model_groups: ['blocked-gpt'] });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ message: expect.stringContaining('Unknown model groups: blocked-gpt'), param: 'model_groups' });
    expect(await rows('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = \'litellm_settings\'')).toEqual(before);
  });

  it('POST /model_hub/update_useful_links: replaces the links /public/model_hub/info shows; a link that is not http(s) is a 422', async () => {
    const bad = await call('/model_hub/update_useful_links', { useful_links: { Click: 'javascript:alert(1)' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ type: 'validation_error', message: expect.stringContaining('expected an http:// or https:// URL'), param: expect.stringContaining('useful_links') });
    const other = await call('/model_hub/update_useful_links', { useful_links: { Docs: 'https://x.example.invalid' } }, await seedKey(stack().databaseUrl));
    expect(other.status).toBe(403);
    const links = { Status: 'https://status.example.invalid', Pricing: 'https://example.invalid/pricing' };
    expect(await ok('/model_hub/update_useful_links', { useful_links: links })).toEqual({ message: 'Successfully updated useful links', useful_links: links, updated_by: null });
    await eventually(async () => {
      const info = await call('/public/model_hub/info', undefined, null);
      return JSON.stringify(info.body.useful_links) === JSON.stringify(links) ? true : undefined;
    }, 8_000);
  });
  it('both routes are in /openapi.json with their bodies', async () => {
    const { paths } = await (await fetch(`${stack().url}/openapi.json`)).json() as { paths: Record<string, Record<string, Json>> };
    expect(paths['/model_group/make_public']?.post?.requestBody.content['application/json'].schema.properties).toHaveProperty('model_groups');
    expect(paths['/model_hub/update_useful_links']?.post?.requestBody.content['application/json'].schema.properties).toHaveProperty('useful_links');
  });
});

describe('a flood of requests without a key', () => {
  it('reads LiteLLM_Config at most once per interval, not per request, and keeps answering while the table is unreadable', async () => {
    await ok('/model_group/make_public', { model_groups: ['gpt-4o'] });
    await eventually(async () => ((await groupsListed()).join() === 'gpt-4o' ? true : undefined), 8_000);
    const scans = async () => {
      const [row] = await query<{ n: string }>(stack().databaseUrl, `SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'LiteLLM_Config'`);
      return Number(row?.n);
    };
    await new Promise((r) => setTimeout(r, 1_500)); // let the last reads' statistics land
    const before = await scans();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 150 }, () => fetch(`${stack().url}/public/model_hub`).then(async (r) => [r.status, await r.json()] as const)));
    const seconds = (Date.now() - started) / 1000;
    for (const [status, body] of answers) {
      expect(status).toBe(200);
      expect((body as Json[]).map((g) => g.model_group)).toEqual(['gpt-4o']);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    // One background read per 2 s interval (plus one in flight when the burst began), whatever the number of requests.
    expect(await scans() - before).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 2);

    await query(stack().databaseUrl, 'ALTER TABLE "LiteLLM_Config" RENAME TO "LiteLLM_Config_away"');
    try {
      for (let i = 0; i < 3; i++) {
        expect(await groupsListed()).toEqual(['gpt-4o']);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    } finally {
      await query(stack().databaseUrl, 'ALTER TABLE "LiteLLM_Config_away" RENAME TO "LiteLLM_Config"');
    }
  });
});
