import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { chatAs } from './support/jwt-stack.ts';
import { AUTO_EXTRA as EXTRA, chat, idp, jwt, mappingConfigYaml, stack, startSecondGateway, upstream, useMappingStack } from './support/jwt-key-mapping-stack.ts';

/**
 * `unregistered_jwt_client_behavior: auto_register`, end to end through workerd: a verified token of a client with
 * no mapping mints a virtual key and its mapping on its first call (which answers 200, as that key), later tokens of
 * the client call as the same key, concurrent first calls on two gateways (separate isolates, one Postgres) end
 * with one key and one mapping, and a token that fails verification or the token policy mints nothing.
 */

useMappingStack('auto_register', EXTRA);
const { ok: admin } = adminClient(() => stack);

const mappingsOf = (client: string) => query<{ id: string; token: string; jwt_issuer: string; is_active: boolean; created_by: string }>(
  stack.db.url, 'SELECT id, token, jwt_issuer, is_active, created_by FROM "LiteLLM_JWTKeyMapping" WHERE jwt_claim_value = $1', [client]);
const autoKeys = async () => Number((await query<{ n: string }>(stack.db.url,
  `SELECT count(*) AS n FROM "LiteLLM_VerificationToken" WHERE created_by = 'auto_register'`))[0]?.n);
const keyRow = async (token: string) => (await query(stack.db.url, 'SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [token]))[0];

describe('auto_register: a client with no mapping', () => {
  it('gets a key and a mapping on its first call, which answers 200 as that key; its later tokens call as the same key', async () => {
    await admin('/user/new', { user_id: 'alice', user_email: 'alice@my-co.com' });
    upstream.reset();
    const first = jwt({ client_id: 'auto-alice', sub: 'alice', email: 'alice@my-co.com' });
    const done = await chat(first);
    expect(done.status).toBe(200);

    const [mapping, ...others] = await mappingsOf('auto-alice');
    expect(others).toHaveLength(0);
    expect(mapping).toMatchObject({ jwt_issuer: '', is_active: true, created_by: 'auto_register' });
    // Admins see it through the mapping API.
    const listed = await admin('/jwt/key/mapping/list?page=1&size=100');
    expect(listed.mappings.find((m: { id: string }) => m.id === mapping!.id)).toMatchObject({ jwt_claim_name: 'client_id', jwt_claim_value: 'auto-alice', is_active: true });
    // The key belongs to the user the token names, says it was auto-registered, and its plain value is nowhere.
    const key = await keyRow(mapping!.token);
    expect(key).toMatchObject({ user_id: 'alice', team_id: null, blocked: false, created_by: 'auto_register' });
    expect(key?.metadata).toMatchObject({ auto_registered: true, jwt_claim_name: 'client_id' });
    expect(String(key?.key_name)).toMatch(/^sk-\.\.\./);
    // Audited as other key creations are, key and mapping, in the same transaction.
    const audit = await query<{ table_name: string; object_id: string; action: string }>(stack.db.url,
      `SELECT table_name, object_id, action FROM "LiteLLM_AuditLog" WHERE changed_by = 'auto_register' AND object_id IN ($1, $2)`, [mapping!.token, mapping!.id]);
    expect(audit.map((a) => a.table_name).sort()).toEqual(['LiteLLM_JWTKeyMapping', 'LiteLLM_VerificationToken']);
    // The call itself is the new key's: its spend row, never the token.
    const row = await eventually(() => spendLogRow(stack.db.url, done.callId ?? ''));
    expect(row.api_key).toBe(mapping!.token);
    expect(JSON.stringify(row)).not.toContain(first);
    expect(upstream.requests[0]?.headers.authorization).not.toContain(first);

    // A later token of the same client (another iat, another signature) is the same key; spend accrues to it.
    const keysBefore = await autoKeys();
    const spentBefore = await eventually(async () => { const s = Number((await keyRow(mapping!.token))?.spend); return s > 0 ? s : undefined; });
    const later = jwt({ client_id: 'auto-alice', sub: 'alice', email: 'alice@my-co.com', nonce: 'second' });
    expect(later).not.toBe(first);
    const again = await chat(later);
    expect(again.status).toBe(200);
    expect((await eventually(() => spendLogRow(stack.db.url, again.callId ?? ''))).api_key).toBe(mapping!.token);
    await eventually(async () => (Number((await keyRow(mapping!.token))?.spend) > spentBefore ? true : undefined));
    expect(await mappingsOf('auto-alice')).toHaveLength(1);
    expect(await autoKeys()).toBe(keysBefore);
  });

  it('is held to its minted key afterwards: blocking the key refuses the client, and no second key is made', async () => {
    await admin('/user/new', { user_id: 'blocked-user' });
    const token = jwt({ client_id: 'auto-blocked', sub: 'blocked-user' });
    const firstCall = await chat(token);
    expect(firstCall.status, JSON.stringify(firstCall.error)).toBe(200);
    const [mapping] = await mappingsOf('auto-blocked');
    expect(await keyRow(mapping!.token)).toMatchObject({ user_id: 'blocked-user', team_id: null, organization_id: null });
    const keysBefore = await autoKeys();
    await admin('/key/block', { key: mapping!.token });
    const refused = await chat(token);
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toContain('Key is blocked');
    expect(await autoKeys()).toBe(keysBefore);
    expect(await mappingsOf('auto-blocked')).toHaveLength(1);
  });

  it('keeps the key it minted when the provider fails that first call: the retry is the same key and mints nothing', async () => {
    upstream.reset();
    // A 400 from the provider is not retried: the client sees it.
    upstream.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad request upstream', type: 'invalid_request_error', param: null, code: null } } });
    const keysBefore = await autoKeys();
    const failed = await chat(jwt({ client_id: 'auto-flaky', sub: 'alice' }));
    expect(failed.status).toBe(400);
    expect(failed.error?.message).not.toContain('sk-');
    const [mapping] = await mappingsOf('auto-flaky');
    expect(mapping?.is_active).toBe(true);
    const retried = await chat(jwt({ client_id: 'auto-flaky', sub: 'alice', nonce: 'retry' }));
    expect(retried.status).toBe(200);
    expect((await eventually(() => spendLogRow(stack.db.url, retried.callId ?? ''))).api_key).toBe(mapping!.token);
    expect(await autoKeys()).toBe(keysBefore + 1);
  });

  it('makes one key and one mapping when first calls race on two gateways (separate isolates, one database)', async () => {
    // Each mapping INSERT is counted (by a sequence: rolled back with the loser's transaction, a row would vanish), and the first one held uncommitted for a second, so both gateways' mints
    // overlap for sure: the second's INSERT waits on the unique constraint, then rolls its own key back.
    await exec(stack.db.url, `DROP SEQUENCE IF EXISTS auto_race_attempts; CREATE SEQUENCE auto_race_attempts;
      CREATE OR REPLACE FUNCTION auto_race_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.jwt_claim_value = 'auto-race' THEN PERFORM nextval('auto_race_attempts'); END IF; RETURN NEW; END $$;
      CREATE OR REPLACE FUNCTION auto_race_hold() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.jwt_claim_value = 'auto-race' THEN PERFORM pg_sleep(2); END IF; RETURN NULL; END $$;
      CREATE TRIGGER auto_race_count BEFORE INSERT ON "LiteLLM_JWTKeyMapping" FOR EACH ROW EXECUTE FUNCTION auto_race_count();
      CREATE TRIGGER auto_race_hold AFTER INSERT ON "LiteLLM_JWTKeyMapping" FOR EACH ROW EXECUTE FUNCTION auto_race_hold();`);
    const second = await startSecondGateway(mappingConfigYaml(upstream, 'auto_register', EXTRA));
    try {
      // Warmed up first (its config, keys and the IdP's JWKS loaded), so its first calls are as quick as this one's.
      await admin('/user/new', { user_id: 'race-user' });
      expect((await chatAs(second.stack, jwt({ client_id: 'auto-race-warm', sub: 'race-user' }), 'gpt-mapped')).status).toBe(200);
      const keysBefore = await autoKeys();
      const token = () => jwt({ client_id: 'auto-race', sub: 'race-user', nonce: crypto.randomUUID() });
      const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => chatAs(i % 2 ? second.stack : stack, token(), 'gpt-mapped')));
      expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill(200));
      // Both gateways tried to insert the mapping (one per isolate at a time): the conflict path ran.
      expect(Number((await query<{ n: string }>(stack.db.url, 'SELECT last_value AS n FROM auto_race_attempts'))[0]?.n)).toBeGreaterThanOrEqual(2);
      const mappings = await mappingsOf('auto-race');
      expect(mappings).toHaveLength(1);
      expect(await autoKeys()).toBe(keysBefore + 1);
      // Every call, on either gateway, was the one key's.
      const rows = await Promise.all(outcomes.map((o) => eventually(() => spendLogRow(stack.db.url, o.callId ?? ''))));
      expect(new Set(rows.map((r) => r.api_key))).toEqual(new Set([mappings[0]!.token]));
    } finally {
      await second.stop();
      await exec(stack.db.url, `DROP TRIGGER IF EXISTS auto_race_count ON "LiteLLM_JWTKeyMapping";
        DROP TRIGGER IF EXISTS auto_race_hold ON "LiteLLM_JWTKeyMapping"; DROP SEQUENCE IF EXISTS auto_race_attempts;`);
    }
  });

  it('mints nothing for a token that fails verification or the token policy, and refuses it as before', async () => {
    const keysBefore = await autoKeys();
    const claims = { client_id: 'auto-mallory', sub: 'mallory', email: 'mallory@my-co.com' };
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      await chat(idp.signedByStranger(claims)),
      await chat(idp.tampered(claims, { client_id: 'auto-mallory-2' })),
      await chat(idp.unsigned(claims)),
      await chat(idp.sign({ ...claims, iat: now - 600, exp: now - 300 })),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(401);
      expect(refused.error).toMatchObject({ type: expect.any(String), code: '401' });
    }
    // A verified token whose email domain the settings do not allow: refused (403) before any key is made.
    const outsider = await chat(jwt({ ...claims, email: 'mallory@elsewhere.com' }));
    expect(outsider.status).toBe(403);
    // A verified token naming a user or team the gateway does not have: the team/user policy's refusal, nothing minted.
    const unknownUser = await chat(jwt({ ...claims, sub: 'nobody-here' }));
    expect(unknownUser.status).toBe(401);
    expect(unknownUser.error?.message).toContain("User doesn't exist in db");
    const unknownTeam = await chat(jwt({ ...claims, sub: undefined, team_id: 'no-such-team' }));
    expect(unknownTeam.status).toBe(404);
    expect(unknownTeam.error?.message).toContain("Team doesn't exist in db");
    expect(await mappingsOf('auto-mallory')).toHaveLength(0);
    expect(await mappingsOf('auto-mallory-2')).toHaveLength(0);
    expect(await autoKeys()).toBe(keysBefore);
  });

  it('mints nothing for an admin token, and refuses a paused mapping as reject does', async () => {
    const keysBefore = await autoKeys();
    await chat(jwt({ client_id: 'auto-admin', scope: 'litellm_proxy_admin' }));
    expect(await mappingsOf('auto-admin')).toHaveLength(0);
    expect(await autoKeys()).toBe(keysBefore);

    expect((await chat(jwt({ client_id: 'auto-paused', sub: 'alice' }))).status).toBe(200);
    const [mapping] = await mappingsOf('auto-paused');
    await admin('/jwt/key/mapping/update', { id: mapping!.id, is_active: false });
    await new Promise((r) => setTimeout(r, 5_500));
    const refused = await chat(jwt({ client_id: 'auto-paused', sub: 'alice', nonce: 'later' }));
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toBe("JWT Key Mapping: No registered mapping for client_id='auto-paused'. Access denied.");
    expect(await mappingsOf('auto-paused')).toHaveLength(1);
    expect(await autoKeys()).toBe(keysBefore + 1);
  });

  it('refuses a token naming no team or user as it would be without auto_register (401), minting nothing', async () => {
    const keysBefore = await autoKeys();
    const refused = await chat(jwt({ client_id: 'auto-nobody' }));
    expect(refused.status).toBe(401);
    expect(refused.error?.message).not.toContain('sk-');
    expect(await mappingsOf('auto-nobody')).toHaveLength(0);
    expect(await autoKeys()).toBe(keysBefore);
  });

  it('never replaces a paused mapping for any issuer with one for the token\'s own issuer', async () => {
    const key = (await admin('/key/generate', {})).key as string;
    const made = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'auto-any-issuer', key });
    await admin('/jwt/key/mapping/update', { id: made.id, is_active: false });
    const keysBefore = await autoKeys();
    const refused = await chat(jwt({ client_id: 'auto-any-issuer', sub: 'alice', iss: 'https://idp.my-co.com' }));
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toBe("JWT Key Mapping: No registered mapping for client_id='auto-any-issuer'. Access denied.");
    const mappings = await mappingsOf('auto-any-issuer');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ jwt_issuer: '', is_active: false });
    expect(await autoKeys()).toBe(keysBefore);
  });

  it('remembers a policy refusal for a while: a user created right after is not minted for at once (no write per refused call)', async () => {
    const token = jwt({ client_id: 'auto-late', sub: 'late-user' });
    const first = await chat(token);
    expect(first.status).toBe(401);
    expect(first.error?.message).toContain("User doesn't exist in db");
    await admin('/user/new', { user_id: 'late-user' });
    const again = await chat(jwt({ client_id: 'auto-late', sub: 'late-user', nonce: 'again' }));
    expect(again.status).toBe(401);
    expect(again.error?.message).toContain("User doesn't exist in db");
    expect(await mappingsOf('auto-late')).toHaveLength(0);
  });
});
