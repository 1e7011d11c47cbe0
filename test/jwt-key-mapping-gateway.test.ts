import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { chat, jwt, PROVIDER_KEY, idp, stack, untilStatus, upstream, useMappingStack } from './support/jwt-key-mapping-stack.ts';

/**
 * The gateway side of JWT → virtual key mapping (`jwt_client_id_field: client_id`, unmapped clients falling back
 * to the team mapping): a verified token whose claim is mapped is that key in every way a user relies on (its
 * models, its rate limit shared with the key itself, its spend and spend rows, its blocking), and a mapping or
 * key changed or deleted is followed within seconds.
 */

useMappingStack('fallback_team_mapping');
const { call, ok: admin, generate, keyRow } = adminClient(() => stack);

/** A new key (its plain value and hash) mapped to `client`. */
async function mappedKey(client: string, fields: Record<string, unknown> = {}) {
  const { key } = await generate({ models: ['gpt-mapped'], ...fields });
  const mapping = await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: client, key });
  return { key: key as string, hash: sha256(key), mappingId: mapping.id as string };
}

const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));

describe('a JWT whose client claim is mapped to a key', () => {
  it('calls as that key: its models, its spend and its spend rows, with no team or user claim needed', async () => {
    const { hash } = await mappedKey('dev-alice');
    const token = jwt({ client_id: 'dev-alice' });
    upstream.reset();
    const done = await chat(token);
    expect(done.status).toBe(200);
    // The provider got the deployment's key, never the caller's token.
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    const row = await loggedRow(done.callId);
    expect(row.api_key).toBe(hash);
    expect(JSON.stringify(row)).not.toContain(token);
    await eventually(async () => (Number((await keyRow(hash))?.spend) > 0 ? true : undefined));
    // The key may call gpt-mapped only.
    const refused = await chat(token, 'gpt-other');
    expect(refused.status).toBe(401);
    expect(refused.error?.type).toBe('key_model_access_denied');
    // /v1/models lists the key's models.
    const models = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 }).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-mapped']);
  });

  it('shares the key\'s own rate limit with the plain key', async () => {
    const { key } = await mappedKey('dev-rpm', { rpm_limit: 2 });
    const token = jwt({ client_id: 'dev-rpm' });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(key)).status).toBe(200);
    const limited = await chat(token);
    expect(limited.status).toBe(429);
    expect(limited.error?.message).not.toContain(token);
  });

  it('is refused as soon as the key is blocked, and calls again once it is unblocked', async () => {
    const { key } = await mappedKey('dev-blocked');
    const token = jwt({ client_id: 'dev-blocked' });
    expect((await chat(token)).status).toBe(200);
    await admin('/key/block', { key });
    const blocked = await chat(token);
    expect(blocked.status).toBe(403);
    expect(blocked.error?.message).toContain('Key is blocked');
    await admin('/key/unblock', { key });
    expect((await chat(token)).status).toBe(200);
  });

  it('is refused once the key is deleted (its mapping goes with it)', async () => {
    const { key, mappingId } = await mappedKey('dev-deleted');
    const token = jwt({ client_id: 'dev-deleted' });
    expect((await chat(token)).status).toBe(200);
    await admin('/key/delete', { keys: [key] });
    // The token names no team or user: without its key it is no one.
    expect((await untilStatus(() => chat(token), 401)).status).toBe(401);
    expect((await call(`/jwt/key/mapping/info?id=${mappingId}`)).status).toBe(404);
  });

  it('follows the key when it is regenerated: the calls are the new key\'s', async () => {
    const { key } = await mappedKey('dev-rotated');
    const token = jwt({ client_id: 'dev-rotated' });
    expect((await chat(token)).status).toBe(200);
    const regenerated = await admin('/key/regenerate', { key });
    const newHash = sha256(regenerated.key);
    const after = await untilStatus(() => chat(token), 200);
    expect(after.status).toBe(200);
    expect((await loggedRow(after.callId)).api_key).toBe(newHash);
  });

  it('cannot call the admin API, whatever the key may (JWT-bound keys call LLM routes only)', async () => {
    const { key } = await mappedKey('dev-admin-try');
    const token = jwt({ client_id: 'dev-admin-try' });
    expect((await call('/key/info', undefined, key)).status).toBe(200);
    const refused = await call('/key/generate', {}, token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('llm_api_routes');
    expect((await call('/jwt/key/mapping/list', undefined, token)).status).toBe(401);
  });

  it('is verified first: a token with the mapped claim that another key signed, or that expired, is refused', async () => {
    await mappedKey('dev-forged');
    const forged = await chat(idp.signedByStranger({ client_id: 'dev-forged', exp: Math.floor(Date.now() / 1000) + 300 }));
    expect(forged.status).toBe(401);
    expect(forged.error?.type).toBe('auth_error');
    const expired = await chat(idp.sign({ client_id: 'dev-forged', exp: Math.floor(Date.now() / 1000) - 60 }));
    expect(expired.status).toBe(401);
  });

  it('passes on a provider\'s failure as the key\'s failed call', async () => {
    const { hash } = await mappedKey('dev-upstream-fails');
    const broke = { kind: 'error', status: 500, body: { error: { message: 'upstream broke', type: 'server_error', param: null, code: null } } } as const;
    // Every retry fails too.
    upstream.enqueue(broke, broke, broke, broke, broke);
    const failed = await chat(jwt({ client_id: 'dev-upstream-fails' }));
    upstream.reset();
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(failed.error)).not.toContain(PROVIDER_KEY);
    // Logged as the key's failed call.
    const [row] = await eventually(async () => {
      const rows = await query(stack.db.url, 'SELECT api_key, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [hash]);
      return rows.length ? rows : undefined;
    });
    expect(row?.status).toBe('failure');
  });
});

describe('a JWT whose client claim has no mapping (fallback_team_mapping)', () => {
  it('calls as its team, then as the key once mapped, and as its team again once the mapping is deleted, within seconds', async () => {
    await admin('/team/new', { team_id: 'team-fallback' });
    const token = jwt({ client_id: 'dev-later', team_id: 'team-fallback' });
    const asTeam = await chat(token, 'gpt-other');
    expect(asTeam.status).toBe(200);
    expect(String((await loggedRow(asTeam.callId)).api_key)).toMatch(/^jwt:/);
    const { hash, mappingId } = await mappedKey('dev-later');
    // The key may not call gpt-other: once the mapping is seen, the call is the key's and refused.
    expect((await untilStatus(() => chat(token, 'gpt-other'), 401)).error?.type).toBe('key_model_access_denied');
    const asKey = await chat(token);
    expect((await loggedRow(asKey.callId)).api_key).toBe(hash);
    await admin('/jwt/key/mapping/delete', { id: mappingId });
    expect((await untilStatus(() => chat(token, 'gpt-other'), 200)).status).toBe(200);
  });

  it('an inactive mapping is no mapping', async () => {
    const { mappingId } = await mappedKey('dev-paused');
    const token = jwt({ client_id: 'dev-paused' });
    expect((await chat(token)).status).toBe(200);
    await admin('/jwt/key/mapping/update', { id: mappingId, is_active: false });
    // No team or user claim to fall back to.
    const refused = await untilStatus(() => chat(token), 401);
    expect(refused.status).toBe(401);
    expect(refused.error?.message).toContain('JWT names no team, user or admin scope');
  });
});

describe('what a mapping does not lift', () => {
  it('a token whose email domain user_allowed_email_domain refuses is refused (403), mapped or not', async () => {
    await mappedKey('dev-email');
    expect((await chat(jwt({ client_id: 'dev-email', email: 'dev@my-co.com' }))).status).toBe(200);
    const refused = await chat(jwt({ client_id: 'dev-email', email: 'dev@elsewhere.example' }));
    expect(refused.status).toBe(403);
    expect(refused.error).toMatchObject({ type: 'auth_error', code: '403' });
    expect(refused.error?.message).toContain('email domain is not allowed');
  });

  it('a client claim Postgres cannot hold (a NUL) maps nothing: no 503, and no one else\'s lookup is held back', async () => {
    await mappedKey('dev-after-nul');
    const nul = await chat(jwt({ client_id: 'bad\u0000client' }));
    // The token names no team or user either: it is no one.
    expect(nul.status).toBe(401);
    expect(nul.error?.message).toContain('JWT names no team, user or admin scope');
    // A mapping this isolate never read is read at once (no back-off after the refused token).
    expect((await chat(jwt({ client_id: 'dev-after-nul' }))).status).toBe(200);
  });

  it('a key deleted while its mapping is still cached: the 401 never shows the key\'s hash to the JWT\'s holder', async () => {
    const { key, hash } = await mappedKey('dev-gone');
    const token = jwt({ client_id: 'dev-gone' });
    expect((await chat(token)).status).toBe(200);
    await admin('/key/delete', { keys: [key] });
    const seen: string[] = [];
    const deadline = Date.now() + 9_000;
    while (Date.now() < deadline) {
      const outcome = await chat(token);
      expect(outcome.status).toBe(401);
      seen.push(outcome.error?.message ?? '');
      if (seen.at(-1)?.includes('JWT names no team')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // First the cached mapping's key is not found, then (the mapping gone with the key) the token is no one.
    expect(seen[0]).toContain('Invalid proxy server token passed. Received API Key = JWT.');
    expect(seen.at(-1)).toContain('JWT names no team');
    expect(seen.join('\n')).not.toContain(hash);
  });

  it('admin_only_routes: a JWT mapped to a proxy admin\'s key is not a proxy admin (the key itself is)', async () => {
    await admin('/user/new', { user_id: 'ops-admin', user_role: 'proxy_admin' });
    const { key } = await generate({ user_id: 'ops-admin' });
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'dev-ops', key });
    const body = { model: 'gpt-mapped', input: 'hi' };
    const asKey = await call('/v1/embeddings', body, key);
    expect(JSON.stringify(asKey.body)).not.toContain('admin only route');
    const asJwt = await call('/v1/embeddings', body, jwt({ client_id: 'dev-ops' }));
    expect(asJwt.status).toBe(403);
    expect(asJwt.body.error).toMatchObject({ type: 'auth_error', code: '403', message: expect.stringContaining('Route=/v1/embeddings is an admin only route') });
  });
});
