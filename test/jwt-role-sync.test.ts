import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, JWT_GENERAL, JWT_MODELS } from './support/jwt-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import pg from 'pg';

/**
 * litellm_jwtauth's jwt_litellm_role_map (a token's roles_jwt_field roles → a LiteLLM user role, its rights on the
 * admin API) and sync_user_role_and_teams (that role and the team_ids_jwt_field teams written to the stored user),
 * end to end through workerd and Postgres: one stack syncing, one with the map but no sync (no effect, as in LiteLLM).
 */

const settings = (sync: boolean) => `${JWT_MODELS}${JWT_GENERAL}  admin_only_routes: [/v1/models]
  litellm_jwtauth:
    user_id_jwt_field: sub
    org_id_jwt_field: org
    team_ids_jwt_field: groups
    roles_jwt_field: realm.roles
    user_id_upsert: true
    sync_user_role_and_teams: ${sync}
    jwt_litellm_role_map:
      - {jwt_role: gw-admin, litellm_role: proxy_admin}
      - {jwt_role: "auditor-*", litellm_role: proxy_admin_viewer}
      - {jwt_role: reader, litellm_role: internal_user_viewer}
    team_allowed_routes: [openai_routes, info_routes, /credentials, /user/new, /team/member_add]
`;

let idp: FakeIdp;
let syncing: TestStack;
let mapping: TestStack;
const onSync = adminClient(() => syncing);
const onMap = adminClient(() => mapping);

beforeAll(async () => {
  idp = await startFakeIdp();
  syncing = await startTestStack({ configYaml: settings(true), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
  mapping = await startTestStack({ configYaml: settings(false), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
  for (const team of ['sync-a', 'sync-b']) await onSync.ok('/team/new', { team_id: team });
  await onMap.ok('/team/new', { team_id: 'map-a' });
});
afterAll(async () => {
  await syncing?.stop();
  await mapping?.stop();
  await idp?.close();
});

const now = () => Math.floor(Date.now() / 1000);
let serial = 0;
/** A fresh token each time (its own jti), as a client gets from its provider. */
const jwt = (sub: string | null, roles: string[], groups?: string[], more: Claims = {}) =>
  idp.sign({ iat: now(), exp: now() + 300, jti: `t${++serial}`, ...(sub ? { sub } : {}), realm: { roles }, ...(groups ? { groups } : {}), ...more } as Claims);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** An open transaction on the syncing stack's database that has run `sql` (a lock), until `release`. */
async function holding(sql: string, params: unknown[]) {
  const client = new pg.Client({ connectionString: syncing.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql, params);
  return { client, release: async () => { await client.query('ROLLBACK').catch(() => undefined); await client.end(); } };
}
const userRow = async (rows: typeof onSync.rows, id: string) => (await rows('SELECT user_role, teams, updated_at FROM "LiteLLM_UserTable" WHERE user_id = $1', [id]))[0];
const membersOf = async (team: string) => ((await onSync.rows('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = $1', [team]))[0]?.members_with_roles ?? []) as { user_id: string; role: string; user_email?: string | null }[];

describe('jwt_litellm_role_map gives a user\'s token the mapped role\'s rights on the admin API, with sync_user_role_and_teams', () => {
  it('a role mapped to proxy_admin may create users; one mapped to internal_user_viewer, or unmapped, is refused', async () => {
    const created = await onSync.call('/user/new', { user_id: 'made-by-mapped-admin' }, jwt('map-admin', ['gw-admin']));
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const viewer = await onSync.call('/user/new', { user_id: 'made-by-viewer' }, jwt('map-viewer', ['reader']));
    // LiteLLM's 401 for an internal_user_viewer's write (admin-worker/lib/viewer-writes.ts).
    expect(viewer.status).toBe(401);
    expect(viewer.body.error).toMatchObject({ type: 'auth_error', message: expect.stringContaining('Your role=internal_user_viewer') });
    const unmapped = await onSync.call('/user/new', { user_id: 'made-by-unmapped' }, jwt('map-plain', ['GW-ADMIN', 'gw-admin-2']));
    expect(unmapped.status).toBe(403);
    expect(unmapped.body.error.message).toContain('Your role=internal_user');
    expect(await userRow(onSync.rows, 'made-by-viewer')).toBeUndefined();
  });

  it('a glob entry gives a matching role proxy_admin_viewer: it reads what only admins and viewers may', async () => {
    expect((await onSync.call('/credentials', undefined, jwt('map-auditor', ['staff', 'auditor-eu']))).status).toBe(200);
    expect((await onSync.call('/credentials', undefined, jwt('map-staff', ['staff']))).status).toBe(403);
  });

  it('a token naming only a team takes no role from the map', async () => {
    const teamOnly = await onSync.call('/credentials', undefined, jwt(null, ['gw-admin'], ['sync-a']));
    expect(teamOnly.status).toBe(403);
  });

  it('a mapped proxy_admin passes the gateway\'s admin_only_routes; a mapped viewer does not', async () => {
    const admin = await fetch(`${syncing.url}/v1/models`, { headers: { authorization: `Bearer ${jwt('route-admin', ['gw-admin'])}` } });
    expect(admin.status).toBe(200);
    const viewer = await fetch(`${syncing.url}/v1/models`, { headers: { authorization: `Bearer ${jwt('route-viewer', ['auditor-x'])}` } });
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { message: string } }).error.message).toContain('Route=/v1/models is an admin only route');
  });

  it('a mapped proxy_admin an admin then demotes to a viewer is refused the gateway\'s admin_only_routes at once, its token still remembered', async () => {
    const token = jwt('route-demoted', ['gw-admin']);
    const models = (bearer: string) => fetch(`${syncing.url}/v1/models`, { headers: { authorization: `Bearer ${bearer}` } });
    expect((await models(token)).status).toBe(200);
    await onSync.ok('/user/update', { user_id: 'route-demoted', user_role: 'proxy_admin_viewer' });
    // The same token (its caller remembered) and a new one with the same roles (its sync remembered) read the stored role.
    for (const bearer of [token, jwt('route-demoted', ['gw-admin'])]) {
      const refused = await models(bearer);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('Route=/v1/models is an admin only route');
    }
    expect(await userRow(onSync.rows, 'route-demoted')).toMatchObject({ user_role: 'proxy_admin_viewer' });
  });

  it('without sync_user_role_and_teams the map has no effect and nothing is written to the stored user', async () => {
    const refused = await onMap.call('/user/new', { user_id: 'made-unsynced' }, jwt('map-admin', ['gw-admin']));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('Your role=internal_user');
    expect(mapping.warnings.join('\n')).toMatch(/jwt_litellm_role_map: has no effect without sync_user_role_and_teams/);
    await onMap.ok('/user/new', { user_id: 'map-stored', user_role: 'internal_user' });
    expect((await chatAs(mapping, jwt('map-stored', ['gw-admin'], ['map-a']))).status).toBe(200);
    expect(await userRow(onMap.rows, 'map-stored')).toMatchObject({ user_role: 'internal_user', teams: [] });
    expect(JSON.stringify(await onMap.rows('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['map-a']))).not.toContain('map-stored');
  });
});

describe('sync_user_role_and_teams', () => {
  it('writes the mapped role and joins the listed teams that exist; a later token leaves the team it no longer lists', async () => {
    expect((await chatAs(syncing, jwt('sync-user', ['reader'], ['sync-a', 'sync-b', 'sync-ghost']))).status).toBe(200);
    expect(await userRow(onSync.rows, 'sync-user')).toMatchObject({ user_role: 'internal_user_viewer', teams: ['sync-a', 'sync-b'] });
    expect(await membersOf('sync-a')).toContainEqual(expect.objectContaining({ user_id: 'sync-user', role: 'user' }));
    expect(await onSync.rows('SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['sync-ghost'])).toHaveLength(0);
    // A budget inside sync-a: leaving the team drops it, as /team/member_delete does.
    await onSync.ok('/team/member_update', { team_id: 'sync-a', user_id: 'sync-user', max_budget_in_team: 5 });

    // An unmapped role leaves the stored role; the teams follow the token.
    expect((await chatAs(syncing, jwt('sync-user', ['nobody'], ['sync-b']))).status).toBe(200);
    expect(await userRow(onSync.rows, 'sync-user')).toMatchObject({ user_role: 'internal_user_viewer', teams: ['sync-b'] });
    expect((await membersOf('sync-a')).map((m) => m.user_id)).not.toContain('sync-user');
    expect((await membersOf('sync-b')).map((m) => m.user_id)).toContain('sync-user');
    expect(await onSync.rows('SELECT 1 FROM "LiteLLM_TeamMembership" WHERE user_id = $1 AND team_id = $2', ['sync-user', 'sync-a'])).toHaveLength(0);
    const info = await onSync.ok('/team/info?team_id=sync-a');
    expect(JSON.stringify(info)).not.toContain('sync-user');

    // A mapped role replaces the stored one.
    expect((await chatAs(syncing, jwt('sync-user', ['auditor-us'], ['sync-b']))).status).toBe(200);
    expect(await userRow(onSync.rows, 'sync-user')).toMatchObject({ user_role: 'proxy_admin_viewer', teams: ['sync-b'] });
  });

  it('adds a member whose token carries no email with the stored user\'s email', async () => {
    await onSync.ok('/user/new', { user_id: 'sync-mailed', user_email: 'mailed@example.com' });
    expect((await chatAs(syncing, jwt('sync-mailed', ['reader'], ['sync-a']))).status).toBe(200);
    expect(await membersOf('sync-a')).toContainEqual(expect.objectContaining({ user_id: 'sync-mailed', user_email: 'mailed@example.com', role: 'user' }));
  });

  it('writes nothing for a user already in step, even read afresh by a new isolate, and takes no lock to find that out', async () => {
    expect((await chatAs(syncing, jwt('sync-steady', ['gw-admin'], ['sync-b']))).status).toBe(200);
    const first = await userRow(onSync.rows, 'sync-steady');
    expect(first).toMatchObject({ user_role: 'proxy_admin', teams: ['sync-b'] });
    for (let i = 0; i < 2; i++) expect((await chatAs(syncing, jwt('sync-steady', ['gw-admin'], ['sync-b']))).status).toBe(200);
    // A restarted runtime remembers no user: the next token is checked against Postgres, while another
    // transaction holds the user's row. Read without a lock, the in-step user lets the call through at once.
    await syncing.restartRuntime();
    const { release } = await holding('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1 FOR UPDATE', ['sync-steady']);
    try {
      const outcome = await Promise.race([chatAs(syncing, jwt('sync-steady', ['gw-admin'], ['sync-b'])), sleep(8000).then(() => 'blocked')]);
      expect(outcome).toMatchObject({ status: 200 });
    } finally {
      await release();
    }
    expect((await userRow(onSync.rows, 'sync-steady'))?.updated_at).toEqual(first?.updated_at);
  });

  it('syncs nothing for a token its call refuses: an organization that does not exist writes no user and no team', async () => {
    const refused = await chatAs(syncing, jwt('sync-orgless', ['gw-admin'], ['sync-a'], { org: 'no-such-org' }));
    expect(refused.status).toBe(404);
    expect(refused.error?.message).toContain('Organization doesn\'t exist in db');
    expect(await userRow(onSync.rows, 'sync-orgless')).toBeUndefined();
    expect((await membersOf('sync-a')).map((m) => m.user_id)).not.toContain('sync-orgless');
    // A stored user keeps its role and teams too.
    expect((await chatAs(syncing, jwt('sync-kept', ['reader'], ['sync-a']))).status).toBe(200);
    expect((await chatAs(syncing, jwt('sync-kept', ['gw-admin'], [], { org: 'no-such-org' }))).status).toBe(404);
    expect(await userRow(onSync.rows, 'sync-kept')).toMatchObject({ user_role: 'internal_user_viewer', teams: ['sync-a'] });
  });

  it('locks the teams before the user, as /team/member_add does: while a team is held, the user row stays free', async () => {
    expect((await chatAs(syncing, jwt('sync-order', ['reader'], ['sync-a']))).status).toBe(200);
    const { client, release } = await holding('SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_id = $1 FOR UPDATE', ['sync-a']);
    let call: Promise<unknown> | undefined;
    try {
      call = chatAs(syncing, jwt('sync-order', ['reader'], ['sync-b']));
      // Until the sync waits on the held team.
      for (let i = 0; i < 100 && !(await onSync.rows(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).length; i++) await sleep(100);
      await client.query('SAVEPOINT probe');
      const probe = await client.query('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1 FOR UPDATE NOWAIT', ['sync-order']).then(() => 'free', (err: { code?: string }) => err.code);
      expect(probe).toBe('free');
    } finally {
      await release();
    }
    expect(await call).toMatchObject({ status: 200 });
    expect(await userRow(onSync.rows, 'sync-order')).toMatchObject({ teams: ['sync-b'] });
  });

  it('takes a user out of every team when its token lists none, as LiteLLM does', async () => {
    expect((await chatAs(syncing, jwt('sync-leaver', ['reader'], ['sync-a']))).status).toBe(200);
    expect(await userRow(onSync.rows, 'sync-leaver')).toMatchObject({ teams: ['sync-a'] });
    // No team left to call as: the token is its user's; the call still syncs.
    await chatAs(syncing, jwt('sync-leaver', ['reader'], []));
    expect(await userRow(onSync.rows, 'sync-leaver')).toMatchObject({ teams: [] });
  });
});
