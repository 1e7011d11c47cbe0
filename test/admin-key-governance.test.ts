import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's key and user governance settings; each describe has its own stack, for its own config.yaml.

let stack: TestStack;
const { call, generate, rows, keyRow, count } = adminClient(() => stack);
const countKeys = () => count('LiteLLM_VerificationToken');
const gen = (body: Json, key?: string) => call('/key/generate', body, key);

const config = (litellmSettings: string, generalSettings = '') => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings:
  timezone: UTC
${litellmSettings}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
${generalSettings}
`;

/** A refusal in the gateway's envelope with LiteLLM's message. */
function expectRefused(res: { status: number; body: Json }, status: number, message: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.type).toBe(status === 400 ? 'bad_request_error' : 'auth_error');
  expect(res.body.error.message).toBe(message);
}

const OVER = (field: string, value: unknown, max: unknown) => `${field} is over max limit set in config - user_value=${value}; max_value=${max}`;

describe('default_key_generate_params and upperbound_key_generate_params', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: config(`
  default_key_generate_params: {max_budget: 5, budget_duration: 1d, duration: 30d, user_id: u-default, team_id: team-d,
    max_parallel_requests: 2, tpm_limit: 100, models: [mock-gpt], metadata: {source: defaults}}
  upperbound_key_generate_params: {max_budget: 10, budget_duration: 30d, duration: 90d, tpm_limit: 1000, rpm_limit: 50}`) });
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
      ('team-a', 'A', '{alice}', '[]'), ('team-d', 'D', '{}', '[{"role":"admin","user_id":"bob"},{"role":"user","user_id":"u-default"}]')`);
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('u-default', 'internal_user'), ('alice', 'internal_user'), ('bob', 'internal_user')`);
  });
  afterAll(async () => stack?.stop());

  it('gives a key the defaults for the fields it leaves unset, and the ceilings for the rest, as /key/info shows', async () => {
    const before = Date.now();
    const k = await generate({ models: [], metadata: {}, tpm_limit: null });
    expect(k).toMatchObject({
      max_budget: 5, budget_duration: '1d', duration: '30d', user_id: 'u-default', team_id: 'team-d', max_parallel_requests: 2, tpm_limit: 100,
      rpm_limit: 50, models: ['mock-gpt'], metadata: { source: 'defaults' },
    });
    const { info } = (await call(`/key/info?key=${k.key}`)).body;
    expect(info).toMatchObject({
      max_budget: 5, budget_duration: '1d', user_id: 'u-default', team_id: 'team-d', max_parallel_requests: 2, tpm_limit: 100, rpm_limit: 50,
      models: ['mock-gpt'], metadata: { source: 'defaults' },
    });
    expect(Date.parse(info.expires) - before).toBeGreaterThan(30 * 86_400_000 - 60_000);
    expect(Date.parse(info.expires) - before).toBeLessThan(30 * 86_400_000 + 60_000);
    // What the request sets wins over a default; metadata sent is not merged with the default one.
    const own = await generate({ max_budget: 7, team_id: 'team-a', models: ['other'], metadata: { mine: true }, user_id: 'alice' });
    expect(own).toMatchObject({ max_budget: 7, team_id: 'team-a', models: ['other'], metadata: { mine: true }, user_id: 'alice', tpm_limit: 100 });
    expect(own.metadata.source).toBeUndefined();
    // A service account's user stays null.
    const service = await call('/key/service-account/generate', { team_id: 'team-d' });
    expect(service.status).toBe(200);
    expect(service.body).toMatchObject({ user_id: null, team_id: 'team-d', max_budget: 5 });
  });

  it('holds a default team and user to the same access checks as sent ones', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const bob = await seedKey(stack.databaseUrl, { userId: 'bob' });
    const before = await countKeys();
    // alice administers team-a only: the default team-d is not hers to mint keys in.
    expectRefused(await gen({}, alice), 403, "Only proxy admins, or admins of the key's team, can create keys for this team. Your role=internal_user");
    // In her own team the default user (an existing user outside team-a) is refused too.
    const toDefaultUser = await gen({ team_id: 'team-a' }, alice);
    expect(toDefaultUser.status).toBe(403);
    expect(toDefaultUser.body.error.message).toContain("A key's user_id must be your own (alice) or a member's of the key's team");
    expect(await countKeys()).toBe(before);
    expect(await generate({ team_id: 'team-a', user_id: 'alice' }, alice)).toMatchObject({ team_id: 'team-a', user_id: 'alice', max_budget: 5 });
    // bob administers team-d, where u-default is a member: the defaults pass.
    expect(await generate({}, bob)).toMatchObject({ team_id: 'team-d', user_id: 'u-default', created_by: 'bob' });
  });

  it('refuses a value over a ceiling on /key/generate, for the master key too, writing nothing', async () => {
    const before = await countKeys();
    expectRefused(await gen({ max_budget: 20 }), 400, OVER('max_budget', 20, 10));
    expectRefused(await gen({ rpm_limit: 51 }), 400, OVER('rpm_limit', 51, 50));
    expectRefused(await gen({ duration: '91d' }), 400, OVER('duration', '91d', '90d'));
    expectRefused(await gen({ budget_duration: '5w' }), 400, OVER('budget_duration', '5w', '30d'));
    expectRefused(await call('/key/service-account/generate', { team_id: 'team-d', tpm_limit: 1001 }), 400, OVER('tpm_limit', 1001, 1000));
    expect((await gen({ max_budget: 20 })).body.error.param).toBe('max_budget');
    expect(await countKeys()).toBe(before);
    // At the ceiling is allowed; durations compare in seconds (1mo is 30 days).
    expect(await generate({ max_budget: 10, budget_duration: '1mo', duration: '12w' })).toMatchObject({ max_budget: 10, budget_duration: '1mo' });
  });

  it('refuses a value over a ceiling, or a cleared one, on /key/update and /key/bulk_update, leaving the row as it was', async () => {
    const k = await generate({ key_alias: 'bounded' });
    const stored = await keyRow(k.token);
    for (const [body, message] of [
      [{ max_budget: 11 }, OVER('max_budget', 11, 10)],
      [{ max_budget: null }, OVER('max_budget', 'None', 10)],
      [{ rpm_limit: null }, OVER('rpm_limit', 'None', 50)],
      [{ duration: null }, OVER('duration', 'None', '90d')],
      [{ duration: '100d', tpm_limit: 10 }, OVER('duration', '100d', '90d')],
    ] as const) expectRefused(await call('/key/update', { key: k.key, ...body }), 400, message);
    expect(await keyRow(k.token)).toEqual(stored);
    // Fields the update leaves out are not compared.
    expect((await call('/key/update', { key: k.key, tpm_limit: 500, key_alias: 'bounded-2' })).body).toMatchObject({ tpm_limit: 500, max_budget: 5 });
    const bulk = await call('/key/bulk_update', { keys: [{ key: k.key, max_budget: 12 }] });
    expect(bulk.body.failed_updates).toEqual([{ key: k.token, key_info: null, failed_reason: OVER('max_budget', 12, 10) }]);
    expect((await keyRow(k.token))?.max_budget).toBe(5);
  });

  it('refuses a value over a ceiling on /key/regenerate, keeping the old key', async () => {
    const k = await generate({});
    const stored = await keyRow(k.token);
    expectRefused(await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { max_budget: 50 }), 400, OVER('max_budget', 50, 10));
    expectRefused(await call('/key/regenerate', { key: k.key, budget_duration: null }), 400, OVER('budget_duration', 'None', '30d'));
    expect(await keyRow(k.token)).toEqual(stored);
    expect(await rows('SELECT * FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [k.token])).toEqual([]);
    const rotated = await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { max_budget: 8 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.max_budget).toBe(8);
  });
});

describe('key_generation_settings: team members of role user, and personal keys by role', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: config(`
  key_generation_settings:
    team_key_generation: {allowed_team_member_roles: [user], required_params: [key_alias]}
    personal_key_generation: {allowed_user_roles: [internal_user], required_params: [metadata]}`) });
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members, members_with_roles) VALUES
      ('team-g', 'G', '{}', '{legacy}', '[{"role":"admin","user_id":"gadmin"},{"role":"user","user_id":"gmember"}]')`);
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('gmember', 'internal_user'), ('pat', 'internal_user'), ('vic', 'team')`);
  });
  afterAll(async () => stack?.stop());

  it('lets a member of an allowed role create keys for its team, for itself only, with the required params', async () => {
    const member = await seedKey(stack.databaseUrl, { userId: 'gmember' });
    expect(await generate({ team_id: 'team-g', key_alias: 'm1' }, member)).toMatchObject({ team_id: 'team-g', user_id: 'gmember', key_alias: 'm1' });
    expect(await generate({ team_id: 'team-g', key_alias: 'm2', user_id: 'gmember' }, member)).toMatchObject({ user_id: 'gmember' });
    // A member listed in the team's legacy `members` has the role user.
    const legacy = await seedKey(stack.databaseUrl, { userId: 'legacy' });
    expect(await generate({ team_id: 'team-g', key_alias: 'l1' }, legacy)).toMatchObject({ team_id: 'team-g', user_id: 'legacy' });
    const before = await countKeys();
    expectRefused(await gen({ team_id: 'team-g', key_alias: 'm3', user_id: 'gadmin' }, member), 403,
      'User can only create keys for themselves. Got user_id=gadmin, Your ID=gmember');
    // A key's user is one of the team's, whoever asks (LiteLLM's check, before the caller's role).
    expectRefused(await gen({ team_id: 'team-g', key_alias: 'm3', user_id: 'someone-new' }, member), 400, 'User=someone-new not assigned to team=team-g');
    expectRefused(await gen({ team_id: 'team-g' }, member), 400, 'Required param key_alias not in data');
    expect((await call('/key/service-account/generate', { team_id: 'team-g', key_alias: 's1' }, member)).status).toBe(403);
    expect(await countKeys()).toBe(before);
  });

  it("refuses a role the setting leaves out (here the team's admin), and anyone outside the team", async () => {
    const admin = await seedKey(stack.databaseUrl, { userId: 'gadmin' });
    const outsider = await seedKey(stack.databaseUrl, { userId: 'carol' });
    const before = await countKeys();
    expectRefused(await gen({ team_id: 'team-g', key_alias: 'a1' }, admin), 400, "Team member role admin not in allowed_team_member_roles=['user']");
    expectRefused(await gen({ team_id: 'team-g', key_alias: 'c1' }, outsider), 400, 'User=carol not assigned to team=team-g');
    expect(await countKeys()).toBe(before);
  });

  it('lets users of an allowed role create personal keys for themselves, with the required params', async () => {
    const pat = await seedKey(stack.databaseUrl, { userId: 'pat' });
    const vic = await seedKey(stack.databaseUrl, { userId: 'vic' });
    expect(await generate({ metadata: { purpose: 'laptop' } }, pat)).toMatchObject({ team_id: null, user_id: 'pat', metadata: { purpose: 'laptop' } });
    const before = await countKeys();
    expectRefused(await gen({}, pat), 400, 'Required param metadata not in data');
    expectRefused(await gen({ metadata: {}, user_id: 'gmember' }, pat), 403, 'User can only create keys for themselves. Got user_id=gmember, Your ID=pat');
    expectRefused(await gen({ metadata: {} }, vic), 400,
      "Personal key creation has been restricted by admin. Allowed roles=['internal_user']. Your role=team");
    expect(await countKeys()).toBe(before);
    // Proxy admins are never restricted: no team, no required params.
    expect(await generate({})).toMatchObject({ team_id: null });
    expect(await generate({ team_id: 'team-g' })).toMatchObject({ team_id: 'team-g' });
  });
});

describe('key_generation_settings for team admins only, and default_team_disabled', () => {
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: config(`
  key_generation_settings:
    team_key_generation: {allowed_team_member_roles: [admin]}
    personal_key_generation: {allowed_user_roles: [internal_user]}`, '  default_team_disabled: true') });
    await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
      ('team-g', 'G', '{gadmin}', '[{"role":"user","user_id":"gmember"}]')`);
    // A member a team admin keys has a user row (admin-worker/routes/keys/access.ts requireAssignableUser).
    await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('gmember', 'internal_user')`);
  });
  afterAll(async () => stack?.stop());

  it('refuses a team member of role user when only admins are allowed, and lets the admin', async () => {
    const member = await seedKey(stack.databaseUrl, { userId: 'gmember' });
    const admin = await seedKey(stack.databaseUrl, { userId: 'gadmin' });
    expectRefused(await gen({ team_id: 'team-g' }, member), 400, "Team member role user not in allowed_team_member_roles=['admin']");
    expect(await generate({ team_id: 'team-g', user_id: 'gmember' }, admin)).toMatchObject({ team_id: 'team-g', user_id: 'gmember' });
  });

  it('refuses keys without a team to all but proxy admins under default_team_disabled, even for an allowed role', async () => {
    const pat = await seedKey(stack.databaseUrl, { userId: 'pat' });
    const before = await countKeys();
    const res = await gen({}, pat);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('Personal keys are disabled on this proxy (general_settings.default_team_disabled): pass a team_id to create a key for a team');
    expect(await countKeys()).toBe(before);
    expect(await generate({})).toMatchObject({ team_id: null });
  });
});
