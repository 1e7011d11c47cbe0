import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { chatAs } from './support/jwt-stack.ts';
import { AUTO_EXTRA as EXTRA, chat, jwt, mappingConfigYaml, stack, startSecondGateway, upstream, useMappingStack } from './support/jwt-key-mapping-stack.ts';

/**
 * What a key `unregistered_jwt_client_behavior: auto_register` mints is given, end to end through workerd: the first
 * listed team that exists (`team_ids_jwt_field`), the token's end user on its calls, the config's key defaults and
 * ceilings, and the user an email names even when binding it fails.
 */

useMappingStack('auto_register', EXTRA);
const { ok: admin } = adminClient(() => stack);

const mappingsOf = (client: string) => query<{ id: string; token: string }>(stack.db.url, 'SELECT id, token FROM "LiteLLM_JWTKeyMapping" WHERE jwt_claim_value = $1', [client]);
const keyRow = async (token: string) => (await query(stack.db.url, 'SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [token]))[0];

describe('auto_register: the key it mints', () => {
  it('mints the key for the first listed team that exists, creating none for the others', async () => {
    await admin('/team/new', { team_id: 'auto-eng', team_alias: 'auto-eng' });
    const done = await chat(jwt({ client_id: 'auto-groups', groups: ['auto-everyone', 'auto-eng'] }));
    expect(done.status, JSON.stringify(done.error)).toBe(200);
    const [mapping] = await mappingsOf('auto-groups');
    expect(await keyRow(mapping!.token)).toMatchObject({ team_id: 'auto-eng' });
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['auto-everyone'])).toHaveLength(0);
  });

  it('keeps the token\'s end user on the call that mints the key and on later calls', async () => {
    await admin('/user/new', { user_id: 'customer-user' });
    const first = await chat(jwt({ client_id: 'auto-customer', sub: 'customer-user', customer: 'cust-auto-1' }));
    expect(first.status, JSON.stringify(first.error)).toBe(200);
    expect((await eventually(() => spendLogRow(stack.db.url, first.callId ?? ''))).end_user).toBe('cust-auto-1');
    const later = await chat(jwt({ client_id: 'auto-customer', sub: 'customer-user', customer: 'cust-auto-1', nonce: 'later' }));
    expect(later.status).toBe(200);
    expect((await eventually(() => spendLogRow(stack.db.url, later.callId ?? ''))).end_user).toBe('cust-auto-1');
  });

  it('gives the key default_key_generate_params, held under upperbound_key_generate_params, as /key/generate would', async () => {
    const settings = 'litellm_settings: {timezone: UTC, default_key_generate_params: {max_budget: 5, tpm_limit: 1000, models: [gpt-mapped], metadata: {source: idp}}, upperbound_key_generate_params: {max_budget: 2, rpm_limit: 7, duration: 30d}}';
    const yaml = mappingConfigYaml(upstream, 'auto_register', EXTRA).replace('litellm_settings: {timezone: UTC}', settings);
    expect(yaml).toContain('upperbound_key_generate_params');
    const governed = await startSecondGateway(yaml);
    try {
      await admin('/user/new', { user_id: 'governed-user' });
      const claims = { client_id: 'auto-governed', sub: 'governed-user' };
      const first = await chatAs(governed.stack, jwt(claims), 'gpt-mapped');
      expect(first.status, JSON.stringify(first.error)).toBe(200);
      const [mapping] = await mappingsOf('auto-governed');
      const key = await keyRow(mapping!.token);
      expect(key?.models).toEqual(['gpt-mapped']);
      expect([key?.max_budget, key?.tpm_limit, key?.rpm_limit].map(Number)).toEqual([2, 1000, 7]);
      expect(key?.metadata).toMatchObject({ source: 'idp', auto_registered: true });
      const days = (new Date(String(key?.expires)).getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThanOrEqual(30);
      // The key's models list holds the client's later calls.
      const other = await chatAs(governed.stack, jwt({ ...claims, nonce: 'other' }), 'gpt-other');
      expect([401, 403]).toContain(other.status);
      expect(other.error?.message).toContain('gpt-other');
    } finally {
      await governed.stop();
    }
  });

  it('binds a user found by email even when that write fails, and mints the key (no aborted transaction)', async () => {
    await admin('/user/new', { user_id: 'bind-fail-user', user_email: 'bindfail@my-co.com' });
    await exec(stack.db.url, `CREATE OR REPLACE FUNCTION auto_bind_fail() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.user_id = 'bind-fail-user' AND NEW.sso_user_id IS NOT NULL THEN RAISE EXCEPTION 'bind refused'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER auto_bind_fail BEFORE UPDATE ON "LiteLLM_UserTable" FOR EACH ROW EXECUTE FUNCTION auto_bind_fail();`);
    try {
      const done = await chat(jwt({ client_id: 'auto-bind', sub: 'idp-subject-77', email: 'bindfail@my-co.com' }));
      expect(done.status, JSON.stringify(done.error)).toBe(200);
      const [mapping] = await mappingsOf('auto-bind');
      expect(await keyRow(mapping!.token)).toMatchObject({ user_id: 'bind-fail-user' });
    } finally {
      await exec(stack.db.url, 'DROP TRIGGER IF EXISTS auto_bind_fail ON "LiteLLM_UserTable";');
    }
  });
});
