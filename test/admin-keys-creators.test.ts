import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Who key_generation_settings lets create keys: the personal key creator's role comes from its user row, and a
// team key's user must be one of the team's.

let stack: TestStack;
const { call, generate, rows, count } = adminClient(() => stack);
const countKeys = () => count('LiteLLM_VerificationToken');
const gen = (body: Json, key?: string) => call('/key/generate', body, key);

const config = (generation: string) => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings:
  timezone: UTC
  key_generation_settings:
${generation}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

function expectRefused(res: { status: number; body: Json }, status: number, message: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.type).toBe(status === 400 ? 'bad_request_error' : 'auth_error');
  expect(res.body.error.message).toBe(message);
}

describe('personal_key_generation with allowed_user_roles, team_key_generation for any member', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: config(`
    team_key_generation: {allowed_team_member_roles: [admin, user]}
    personal_key_generation: {allowed_user_roles: [internal_user]}`) });
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members, members_with_roles) VALUES
      ('team-g', 'G', '{}', '{legacy}', '[{"role":"admin","user_id":"gadmin"},{"role":"user","user_id":"gmember"}]')`);
    // Members a team admin keys have user rows (admin-worker/routes/keys/access.ts requireAssignableUser).
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('pat', 'internal_user'), ('gadmin', 'internal_user'), ('outsider', 'internal_user'),
      ('gmember', 'internal_user'), ('legacy', 'internal_user')`);
  });
  afterAll(async () => stack?.stop());

  it('takes a personal key creator\'s role from its user row: a calling key whose user has none is refused, as LiteLLM\'s role None', async () => {
    // A key a proxy admin made without a user_id gets a fresh user id, with no row behind it.
    const unowned = await generate({});
    expect(await rows('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', [unowned.user_id])).toEqual([]);
    const ghost = await seedKey(stack.databaseUrl, { userId: 'ghost' });
    const before = await countKeys();
    for (const key of [unowned.key, ghost]) {
      expectRefused(await gen({}, key), 400, "Personal key creation has been restricted by admin. Allowed roles=['internal_user']. Your role=None");
    }
    expect(await countKeys()).toBe(before);
    const pat = await seedKey(stack.databaseUrl, { userId: 'pat' });
    expect(await generate({}, pat)).toMatchObject({ team_id: null, user_id: 'pat' });
  });

  it('refuses a personal key to a calling key without a user (a service account\'s)', async () => {
    const serviceAccount = await seedKey(stack.databaseUrl, { teamId: 'team-g' });
    const before = await countKeys();
    expectRefused(await gen({}, serviceAccount), 403, 'Personal keys are created by users: the calling key has no user_id');
    expect(await countKeys()).toBe(before);
  });

  it('gives a team key only a user of the team, for the team admin too (LiteLLM\'s 400), before the caller\'s own role', async () => {
    const admin = await seedKey(stack.databaseUrl, { userId: 'gadmin' });
    const member = await seedKey(stack.databaseUrl, { userId: 'gmember' });
    const outsider = await seedKey(stack.databaseUrl, { userId: 'outsider' });
    const before = await countKeys();
    expectRefused(await gen({ team_id: 'team-g', user_id: 'brand-new-user' }, admin), 400, 'User=brand-new-user not assigned to team=team-g');
    expectRefused(await gen({ team_id: 'team-g', user_id: 'outsider' }, admin), 400, 'User=outsider not assigned to team=team-g');
    expectRefused(await gen({ team_id: 'team-g', user_id: 'outsider' }, outsider), 400, 'User=outsider not assigned to team=team-g');
    expect(await countKeys()).toBe(before);
    // Members of every kind (members_with_roles, the legacy members list) may be given one.
    expect(await generate({ team_id: 'team-g', user_id: 'gmember' }, admin)).toMatchObject({ team_id: 'team-g', user_id: 'gmember' });
    expect(await generate({ team_id: 'team-g', user_id: 'legacy' }, admin)).toMatchObject({ user_id: 'legacy' });
    expect(await generate({ team_id: 'team-g' }, member)).toMatchObject({ user_id: 'gmember' });
    // Proxy admins are never held to it.
    expect(await generate({ team_id: 'team-g', user_id: 'brand-new-user' })).toMatchObject({ user_id: 'brand-new-user' });
  });

  it('refuses a plain member a service account, in its words', async () => {
    const member = await seedKey(stack.databaseUrl, { userId: 'gmember' });
    const before = await countKeys();
    expectRefused(await call('/key/service-account/generate', { team_id: 'team-g' }, member), 403,
      "Only proxy admins, or admins of the key's team, can create service account keys. Your team role=user");
    expect(await countKeys()).toBe(before);
    const admin = await seedKey(stack.databaseUrl, { userId: 'gadmin' });
    expect((await call('/key/service-account/generate', { team_id: 'team-g' }, admin)).body).toMatchObject({ team_id: 'team-g', user_id: null });
  });
});

describe('personal_key_generation without allowed_user_roles', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: config(`
    personal_key_generation: {required_params: [key_alias]}`) });
    // Any role but the viewers', whom every write refuses (admin-worker/lib/viewer-writes.ts).
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('vic', 'team')`);
  });
  afterAll(async () => stack?.stop());

  it('lets a user of any role with a row create its personal keys, and refuses a calling key whose user has no row', async () => {
    const vic = await seedKey(stack.databaseUrl, { userId: 'vic' });
    expect(await generate({ key_alias: 'vic-1' }, vic)).toMatchObject({ user_id: 'vic', team_id: null });
    const ghost = await seedKey(stack.databaseUrl, { userId: 'ghost' });
    const before = await countKeys();
    expectRefused(await gen({ key_alias: 'ghost-1' }, ghost), 400,
      'Personal key creation needs a user: user_id=ghost has no row in LiteLLM_UserTable (create it with /user/new). Your role=None');
    expect(await countKeys()).toBe(before);
  });
});
