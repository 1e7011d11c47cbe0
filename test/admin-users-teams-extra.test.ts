import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG, BUDGET_FIELDS, adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// GET /v2/user/info, GET /team/available and GET /team/{team_id}/members/me: LiteLLM's self-serve reads.

let stack: TestStack;
const { call, ok, rows, generate } = adminClient(() => stack);

/** LiteLLM's UserInfoV2Response, field for field. */
const USER_V2_FIELDS = ['budget_duration', 'budget_reset_at', 'created_at', 'max_budget', 'metadata', 'models', 'spend', 'sso_user_id', 'teams',
  'updated_at', 'user_alias', 'user_email', 'user_id', 'user_role'];
/** A team as /team/available offers it: what joining gives, members by role only, no spend or metadata. */
const AVAILABLE_TEAM_FIELDS = ['budget_duration', 'max_budget', 'members_with_roles', 'models', 'rpm_limit', 'team_alias', 'team_id', 'tpm_limit'];
/** LiteLLM's TeamMemberInfoResponse as Tollgate keeps memberships (no `total_spend` column). */
const MEMBER_ME_FIELDS = ['budget_id', 'litellm_budget_table', 'role', 'spend', 'team_alias', 'team_id', 'user_email', 'user_id'];

const AVAILABLE_CONFIG = `${ADMIN_CONFIG.replace('litellm_settings: {timezone: UTC}',
  'litellm_settings: {timezone: UTC, default_internal_user_params: {available_teams: [team-open, team-joined, team-ghost, team-legacy]}}')}`;

/** One virtual key per user, made once. */
const keys: Record<string, string> = {};

describe('with available_teams configured', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: AVAILABLE_CONFIG });
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('viewer', 'proxy_admin_viewer')`);
    for (const [user_id, extra] of [
      ['alice', { user_email: 'alice@example.com', user_alias: 'Alice', max_budget: 10, budget_duration: '30d', models: ['mock-gpt'], metadata: { dept: 'ml' } }],
      ['bob', {}], ['tadmin', {}], ['dave', {}],
    ] as const) {
      await ok('/user/new', { user_id, auto_create_key: false, ...extra });
    }
    await rows(`UPDATE "LiteLLM_UserTable" SET sso_user_id = 'sso-alice' WHERE user_id = 'alice'`);
    await ok('/team/new', {
      team_id: 'team-open', team_alias: 'Open', models: ['mock-gpt'], max_budget: 50, budget_duration: '30d', tpm_limit: 1000, rpm_limit: 10,
      metadata: { note: 'admins only' },
    });
    await ok('/team/new', { team_id: 'team-joined', team_alias: 'Joined', members_with_roles: [{ role: 'user', user_id: 'alice', user_email: 'alice@example.com' }] });
    await ok('/team/new', { team_id: 'team-x', team_alias: 'X', members_with_roles: [{ role: 'admin', user_id: 'tadmin' }] });
    await ok('/team/member_add', { team_id: 'team-x', member: { role: 'user', user_id: 'alice' }, max_budget_in_team: 3 });
    // A team that names its admin and member only in the legacy `admins` and `members` lists.
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members) VALUES ('team-legacy', 'Legacy', '{bob}', '{alice}')`);
    for (const user of ['root', 'viewer', 'alice', 'bob', 'tadmin', 'dave']) keys[user] = await seedKey(stack.databaseUrl, { userId: user });
  });
  afterAll(async () => stack?.stop());

  describe('GET /v2/user/info', () => {
    it("answers the user row alone, in LiteLLM's UserInfoV2Response shape", async () => {
      const body = await ok('/v2/user/info?user_id=alice');
      expect(Object.keys(body).sort()).toEqual(USER_V2_FIELDS);
      expect(body).toMatchObject({
        user_id: 'alice', user_email: 'alice@example.com', user_alias: 'Alice', user_role: 'internal_user', spend: 0, max_budget: 10,
        models: ['mock-gpt'], budget_duration: '30d', metadata: { dept: 'ml' }, sso_user_id: 'sso-alice', teams: ['team-joined', 'team-x'],
      });
      const [row] = await rows(`SELECT created_at, budget_reset_at FROM "LiteLLM_UserTable" WHERE user_id = 'alice'`);
      expect(body.created_at).toBe(new Date(row!.created_at).toISOString());
      expect(body.budget_reset_at).toBe(new Date(row!.budget_reset_at).toISOString());
      expect(JSON.stringify(body)).not.toContain('password');
    });

    it('lets a user read itself, by default or by id, and admins and viewers read anyone', async () => {
      expect((await ok('/v2/user/info', undefined, keys.alice)).user_id).toBe('alice');
      expect((await ok('/v2/user/info?user_id=alice', undefined, keys.alice)).user_id).toBe('alice');
      expect((await ok('/v2/user/info?user_id=alice', undefined, keys.viewer)).user_id).toBe('alice');
      expect((await ok('/v2/user/info?user_id=bob', undefined, keys.root)).user_id).toBe('bob');
    });

    it('lets a team admin read the members of its team, and nobody else', async () => {
      expect((await ok('/v2/user/info?user_id=alice', undefined, keys.tadmin)).user_id).toBe('alice');
      expect((await call('/v2/user/info?user_id=bob', undefined, keys.tadmin)).status).toBe(404);
      // A plain member is no team admin: alice may not read tadmin, though they share team-x.
      expect((await call('/v2/user/info?user_id=tadmin', undefined, keys.alice)).status).toBe(404);
    });

    it("shows a team admin a member's row without its metadata; admins, viewers and the user itself see it", async () => {
      const asTeamAdmin = await ok('/v2/user/info?user_id=alice', undefined, keys.tadmin);
      expect(Object.keys(asTeamAdmin).sort()).toEqual(USER_V2_FIELDS);
      expect(asTeamAdmin).toMatchObject({ user_id: 'alice', metadata: {}, spend: 0, max_budget: 10, teams: ['team-joined', 'team-x'] });
      expect(JSON.stringify(asTeamAdmin)).not.toContain('dept');
      for (const reader of [keys.alice, keys.viewer, keys.root, undefined]) {
        expect((await ok('/v2/user/info?user_id=alice', undefined, reader)).metadata).toEqual({ dept: 'ml' });
      }
    });

    it("answers another user as an unknown one (LiteLLM's 404), so ids cannot be probed", async () => {
      const other = await call('/v2/user/info?user_id=bob', undefined, keys.alice);
      const unknown = await call('/v2/user/info?user_id=nobody', undefined, keys.alice);
      expect(other).toEqual({ status: 404, body: { error: { message: 'User not found: bob', type: 'not_found_error', param: null, code: '404' } } });
      expect(unknown.body.error.message).toBe('User not found: nobody');
      expect((await call('/v2/user/info?user_id=nobody')).status).toBe(404);
    });

    it('needs a user: one named, or the calling key\'s', async () => {
      const res = await call('/v2/user/info');
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param: 'user_id',
        message: 'user_id is required. Either pass it as a query parameter or authenticate with a user-bound key.' });
      expect((await call('/v2/user/info?user_id=alice', undefined, null)).status).toBe(401);
    });
  });

  describe('GET /team/available', () => {
    it("lists the configured teams the caller's user is not in, as what joining gives; unknown ids are left out", async () => {
      const forAlice = await ok('/team/available', undefined, keys.alice);
      expect(forAlice).toEqual([{
        team_id: 'team-open', team_alias: 'Open', models: ['mock-gpt'], max_budget: 50, budget_duration: '30d', tpm_limit: 1000, rpm_limit: 10, members_with_roles: [],
      }]);
      expect((await ok('/team/available', undefined, keys.bob)).map((t: Json) => t.team_id)).toEqual(['team-joined', 'team-open']);
    });

    it("shows no member's id or email, no spend and no metadata: members by role only, as LiteLLM's UI counts them", async () => {
      await rows(`UPDATE "LiteLLM_TeamTable" SET team_spend = 7.5 WHERE team_id = 'team-joined'`);
      const forBob = await ok('/team/available', undefined, keys.bob) as Json[];
      for (const team of forBob) expect(Object.keys(team).sort()).toEqual(AVAILABLE_TEAM_FIELDS);
      expect(forBob.find((t) => t.team_id === 'team-joined')?.members_with_roles).toEqual([{ role: 'user' }]);
      const text = JSON.stringify(forBob);
      for (const hidden of ['alice', 'spend', '7.5', 'admins only', 'metadata']) expect(text).not.toContain(hidden);
    });

    it('leaves out a team that names the user only in its legacy admins or members list', async () => {
      const [legacy] = await rows(`SELECT admins, members FROM "LiteLLM_TeamTable" WHERE team_id = 'team-legacy'`);
      expect(legacy).toMatchObject({ admins: ['bob'], members: ['alice'] });
      expect((await ok('/team/available', undefined, keys.bob)).map((t: Json) => t.team_id)).not.toContain('team-legacy');
      expect((await ok('/team/available', undefined, keys.alice)).map((t: Json) => t.team_id)).not.toContain('team-legacy');
      expect((await ok('/team/available', undefined, keys.tadmin)).map((t: Json) => t.team_id)).toEqual(['team-joined', 'team-legacy', 'team-open']);
    });

    it('leaves out a team that lists the user as a member though its user row does not name the team', async () => {
      await rows(`UPDATE "LiteLLM_TeamTable" SET members_with_roles = '[{"role":"user","user_id":"dave"}]' WHERE team_id = 'team-open'`);
      expect((await ok('/team/available', undefined, keys.dave)).map((t: Json) => t.team_id)).toEqual(['team-joined', 'team-legacy']);
    });

    it("needs a caller with a user: LiteLLM's 404 for the master key", async () => {
      expect((await call('/team/available')).body.error).toMatchObject({ message: 'User not found', type: 'not_found_error', code: '404' });
      expect((await call('/team/available', undefined, null)).status).toBe(401);
    });
  });

  describe('GET /team/{team_id}/members/me', () => {
    it("answers the caller's membership row with its budget, role, email and the team's alias", async () => {
      await rows(`UPDATE "LiteLLM_TeamMembership" SET spend = 1.25 WHERE team_id = 'team-x' AND user_id = 'alice'`);
      const body = await ok('/team/team-x/members/me', undefined, keys.alice);
      expect(Object.keys(body).sort()).toEqual(MEMBER_ME_FIELDS);
      expect(body).toMatchObject({ user_id: 'alice', team_id: 'team-x', spend: 1.25, role: 'user', user_email: 'alice@example.com', team_alias: 'X' });
      expect(Object.keys(body.litellm_budget_table).sort()).toEqual(BUDGET_FIELDS);
      expect(body.litellm_budget_table).toMatchObject({ budget_id: body.budget_id, max_budget: 3 });
      // A key of the team belonging to the user answers the same.
      const teamKey = await seedKey(stack.databaseUrl, { userId: 'alice', teamId: 'team-x' });
      expect(await ok('/team/team-x/members/me', undefined, teamKey)).toEqual(body);
    });

    it('answers a member without a budget in the team as an empty membership', async () => {
      expect(await ok('/team/team-x/members/me', undefined, keys.tadmin)).toEqual({
        user_id: 'tadmin', team_id: 'team-x', spend: 0, budget_id: null, litellm_budget_table: null, role: 'admin', user_email: null, team_alias: 'X',
      });
      expect(await ok('/team/team-legacy/members/me', undefined, keys.bob)).toMatchObject({ user_id: 'bob', role: 'admin', budget_id: null });
    });

    it("answers a team the caller is not in as an unknown one (404), proxy admins included", async () => {
      const notIn = await call('/team/team-x/members/me', undefined, keys.bob);
      expect(notIn).toEqual({ status: 404, body: { error: { message: 'User=bob is not a member of team=team-x', type: 'not_found_error', param: null, code: '404' } } });
      expect((await call('/team/no-such-team/members/me', undefined, keys.bob)).body.error.message).toBe('User=bob is not a member of team=no-such-team');
      expect((await call('/team/team-x/members/me', undefined, keys.root)).status).toBe(404);
    });

    it('needs a key that belongs to a user (400 for the master key and team keys)', async () => {
      expect((await call('/team/team-x/members/me')).body.error).toMatchObject({ type: 'bad_request_error', code: '400', param: 'user_id' });
      const teamOnly = await seedKey(stack.databaseUrl, { teamId: 'team-x' });
      expect((await call('/team/team-x/members/me', undefined, teamOnly)).status).toBe(400);
      expect((await call('/team/team-x/members/me', undefined, null)).status).toBe(401);
    });
  });

  it("puts /v2/user/info and /team/available in LiteLLM's info_routes, not /team/{team_id}/members/me", async () => {
    const readOnly = (await generate({ user_id: 'alice', key_type: 'read_only' })).key as string;
    expect((await ok('/v2/user/info', undefined, readOnly)).user_id).toBe('alice');
    expect((await ok('/team/available', undefined, readOnly)).map((t: Json) => t.team_id)).toEqual(['team-open']);
    expect((await call('/team/team-x/members/me', undefined, readOnly)).status).toBe(401);
  });

  it('describes the three routes in /openapi.json', async () => {
    const { paths } = await (await fetch(`${stack.url}/openapi.json`)).json() as { paths: Record<string, Json> };
    expect(paths['/v2/user/info']?.get.parameters.map((p: Json) => p.name)).toEqual(['user_id']);
    expect(paths['/team/available']).toHaveProperty('get');
    expect(paths['/team/{team_id}/members/me']).toHaveProperty('get');
  });
});

describe('without available_teams', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  });
  afterAll(async () => stack?.stop());

  it("is LiteLLM's 400 pointing at the setting", async () => {
    await ok('/user/new', { user_id: 'erin', auto_create_key: false });
    const res = await call('/team/available', undefined, await seedKey(stack.databaseUrl, { userId: 'erin' }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('No available teams for user to join. See how to set available teams here: https://docs.litellm.ai/docs/proxy/self_serve#all-settings-for-self-serve--sso-flow');
  });
});
