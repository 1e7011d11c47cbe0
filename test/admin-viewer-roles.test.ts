import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient, type Json } from './support/admin.ts';
import { sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's read-only roles on the admin API: proxy_admin_viewer reads everything, internal_user_viewer its own
// keys and spend; neither writes anything (admin-worker/lib/viewer-writes.ts). Their keys still call models.

let stack: TestStack;
let fake: FakeUpstream;
const { call, ok, generate, rows, count } = adminClient(() => stack);

const TABLES = ['LiteLLM_VerificationToken', 'LiteLLM_UserTable', 'LiteLLM_TeamTable', 'LiteLLM_OrganizationTable', 'LiteLLM_EndUserTable',
  'LiteLLM_BudgetTable', 'LiteLLM_ProxyModelTable', 'LiteLLM_CredentialsTable', 'LiteLLM_AuditLog', 'LiteLLM_InvitationLink', 'LiteLLM_TagTable'];
/** Row counts of every table a refused write could touch, with the changing key and team rows in full. */
async function snapshot(): Promise<Json> {
  const counts: Json = {};
  for (const table of TABLES) counts[table] = await count(table);
  return {
    counts,
    keys: await rows('SELECT token, key_alias, spend, blocked, expires, max_budget, models, updated_at FROM "LiteLLM_VerificationToken" ORDER BY token'),
    teams: await rows('SELECT team_id, members_with_roles, max_budget, blocked FROM "LiteLLM_TeamTable" ORDER BY team_id'),
    users: await rows('SELECT user_id, user_role, user_email, max_budget, spend FROM "LiteLLM_UserTable" ORDER BY user_id'),
  };
}

/**
 * The envelope a viewer's write gets, LiteLLM's for each role: proxy_admin_viewer's 403; internal_user_viewer's 401
 * as user_api_key_auth wraps _raise_admin_only_route_exception, its user id masked (`vic`: `***`).
 */
function expectViewerRefusal(res: { status: number; body: Json }, role: string, requested: string) {
  // A key in the path is named by its place, never echoed.
  const path = requested.replace(/^\/key\/sk-[^/]+\//, '/key/{key}/');
  expect(JSON.stringify(res.body)).not.toMatch(/sk-/);
  if (role === 'proxy_admin_viewer') {
    expect(res.status, `${requested}: ${JSON.stringify(res.body)}`).toBe(403);
    const message = `user not allowed to access this route, role= proxy_admin_viewer. Trying to access: ${path}`;
    expect(res.body).toEqual({ error: { message, type: 'auth_error', param: null, code: '403' } });
    return;
  }
  expect(res.status, `${requested}: ${JSON.stringify(res.body)}`).toBe(401);
  const message = 'Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. '
    + `Route=${path}. Your role=internal_user_viewer. Your user_id=***`;
  expect(res.body).toEqual({ error: { message, type: 'auth_error', param: 'None', code: '401' } });
}

let vic: string; // internal_user_viewer, admin of team-v
let peek: string; // proxy_admin_viewer
let ivan: string; // internal_user, admin of team-i
let other: string; // someone else's key

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({ configYaml: `
model_list:
  - model_name: gpt-viewer
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-fake-0001}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  public_routes: [/spend/calculate]
` });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role, spend, max_budget) VALUES
    ('vic', 'internal_user_viewer', 1.5, 10), ('peek', 'proxy_admin_viewer', 0, null), ('ivan', 'internal_user', 0, null), ('newbie', 'internal_user', 0, null)`);
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
    ('team-v', 'V', '{}', '[{"role":"admin","user_id":"vic"}]'), ('team-i', 'I', '{}', '[{"role":"admin","user_id":"ivan"}]')`);
  vic = (await generate({ user_id: 'vic', key_alias: 'vic-key', team_id: 'team-v' })).key;
  peek = (await generate({ user_id: 'peek', key_alias: 'peek-key' })).key;
  ivan = (await generate({ user_id: 'ivan', key_alias: 'ivan-key', team_id: 'team-i' })).key;
  other = (await generate({ user_id: 'ivan', key_alias: 'other-key' })).key;
  await rows('UPDATE "LiteLLM_VerificationToken" SET spend = 1.25 WHERE token = $1', [sha256(vic)]);
  await ok('/tag/new', { name: 'viewer-tag' });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

describe('internal_user_viewer', () => {
  it('reads its own key, keys, user and spend', async () => {
    expect((await ok('/key/info', undefined, vic)).info).toMatchObject({ key_alias: 'vic-key', user_id: 'vic', spend: 1.25 });
    expect((await ok(`/key/info?key=${vic}`, undefined, vic)).info.key_alias).toBe('vic-key');
    expect((await ok('/v2/key/info', { keys: [vic] }, vic)).info).toHaveLength(1);
    const listed = await ok('/key/list?return_full_object=true', undefined, vic);
    expect(listed.keys.map((k: Json) => k.key_alias)).toEqual(['vic-key']);
    const info = await ok('/user/info', undefined, vic);
    expect(info.user_info).toMatchObject({ user_id: 'vic', user_role: 'internal_user_viewer', spend: 1.5 });
    expect(info.keys.map((k: Json) => k.key_alias)).toEqual(['vic-key']);
    expect((await ok('/key/health', {}, vic)).key).toBe('healthy');
    // Not another user's.
    expect((await call(`/key/info?key=${other}`, undefined, vic)).status).toBe(403);
  });

  it('is refused every write, its own key and team included, and nothing changes', async () => {
    const before = await snapshot();
    const writes: [string, Json][] = [
      ['/key/generate', {}],
      ['/key/generate', { team_id: 'team-v', user_id: 'vic' }],
      ['/key/update', { key: vic, key_alias: 'renamed' }],
      ['/key/delete', { keys: [vic] }],
      ['/key/regenerate', { key: vic }],
      [`/key/${vic}/regenerate`, {}],
      [`/key/${vic}/reset_spend`, { reset_to: 0 }],
      ['/key/block', { key: vic }],
      ['/key/unblock', { key: vic }],
      ['/team/member_add', { team_id: 'team-v', member: [{ role: 'user', user_id: 'newbie' }] }],
      ['/team/member_delete', { team_id: 'team-v', user_id: 'vic' }],
      ['/team/update', { team_id: 'team-v', max_budget: 1 }],
      ['/user/update', { user_id: 'vic', user_email: 'vic@example.com' }],
      ['/user/new', { user_id: 'made-by-vic' }],
    ];
    for (const [path, body] of writes) expectViewerRefusal(await call(path, body, vic), 'internal_user_viewer', path);
    expect(await snapshot()).toEqual(before);
    // The key still works on the admin API (it was not regenerated or deleted).
    expect((await ok('/key/info', undefined, vic)).info.key_alias).toBe('vic-key');
  });
});

describe('internal_user (unchanged)', () => {
  it('still manages its own keys and its team', async () => {
    const made = await generate({ team_id: 'team-i', user_id: 'ivan', key_alias: 'ivan-2' }, ivan);
    expect((await ok('/key/update', { key: made.key, key_alias: 'ivan-2b' }, ivan)).key_alias).toBe('ivan-2b');
    const regenerated = await ok(`/key/${made.key}/regenerate`, {}, ivan);
    expect(regenerated.key).not.toBe(made.key);
    expect((await ok('/key/delete', { keys: [regenerated.key] }, ivan)).deleted_keys).toHaveLength(1);
    await ok('/team/member_add', { team_id: 'team-i', member: [{ role: 'user', user_id: 'newbie' }] }, ivan);
    const [team] = await rows('SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-i']);
    expect(team!.members_with_roles).toContainEqual(expect.objectContaining({ user_id: 'newbie' }));
  });
});

describe('proxy_admin_viewer', () => {
  it('reads every key, user and team, and the read-only POSTs', async () => {
    expect((await ok('/key/list', undefined, peek)).keys.length).toBeGreaterThanOrEqual(4);
    expect((await ok(`/key/info?key=${other}`, undefined, peek)).info.key_alias).toBe('other-key');
    expect((await ok('/v2/key/info', { keys: [other, vic] }, peek)).info).toHaveLength(2);
    expect((await ok('/user/list', undefined, peek)).users.length).toBeGreaterThanOrEqual(4);
    expect((await ok('/team/info?team_id=team-v', undefined, peek)).team_id).toBe('team-v');
    expect((await ok('/spend/calculate', { model: 'gpt-viewer', messages: [{ role: 'user', content: 'hi' }] }, peek)).cost).toBeGreaterThan(0);
  });

  it('is refused writes across every route family, and nothing changes', async () => {
    const before = await snapshot();
    const writes: [string, Json | undefined, string?][] = [
      ['/key/generate', { user_id: 'peek' }],
      ['/key/service-account/generate', { team_id: 'team-v' }],
      ['/key/update', { key: other, max_budget: 1 }],
      ['/key/bulk_update', { keys: [{ key: other, max_budget: 1 }] }],
      ['/key/delete', { keys: [other] }],
      ['/key/regenerate', { key: other }],
      [`/key/${other}/regenerate`, {}],
      ['/key/block', { key: other }],
      ['/user/new', { user_id: 'made-by-peek' }],
      ['/user/update', { user_id: 'ivan', max_budget: 1 }],
      ['/user/delete', { user_ids: ['newbie'] }],
      ['/team/new', { team_alias: 'peek-team' }],
      ['/team/member_add', { team_id: 'team-v', member: [{ role: 'user', user_id: 'newbie' }] }],
      ['/team/block', { team_id: 'team-v' }],
      ['/organization/new', { organization_alias: 'peek-org' }],
      ['/customer/new', { user_id: 'peek-customer' }],
      ['/end_user/block', { user_ids: ['peek-customer'] }],
      ['/budget/new', { budget_id: 'peek-budget', max_budget: 1 }],
      ['/model/new', { model_name: 'peek-model', litellm_params: { model: 'openai/gpt-4o' } }],
      ['/credentials', { credential_name: 'peek-cred', credential_values: { api_key: 'sk-x' }, credential_info: {} }],
      ['/credentials/peek-cred', { credential_info: {} }, 'PATCH'],
      ['/v1/mcp/server', { server_id: 'm', url: 'https://example.com/mcp' }, 'PUT'],
      ['/v1/mcp/server/m', undefined, 'DELETE'],
      ['/v1/agents', { agent_name: 'peek-agent' }],
      ['/tag/new', { name: 'peek-tag' }],
      ['/invitation/new', { user_id: 'newbie' }],
      ['/cache/flushall', {}],
      ['/global/spend/reset', {}],
      ['/model_group/make_public', { model_groups: ['gpt-viewer'] }],
    ];
    for (const [path, body, method] of writes) expectViewerRefusal(await call(path, body, peek, method ? { method } : {}), 'proxy_admin_viewer', path);
    expect(await snapshot()).toEqual(before);
  });
});

describe('what the viewer rule leaves open', () => {
  /** The admin API's POSTs that only read, each with a body it answers. */
  const reads = (): [string, Json][] => [
    ['/v2/key/info', { keys: [vic] }],
    ['/key/health', {}],
    ['/budget/info', { budgets: ['no-such-budget'] }],
    ['/tag/info', { names: ['viewer-tag'] }],
    ['/spend/calculate', { model: 'gpt-viewer', messages: [{ role: 'user', content: 'hi' }] }],
    ['/global/spend/end_users', {}],
  ];

  it('answers a proxy_admin_viewer each read-only POST, and refuses an internal_user_viewer none of them as a write', async () => {
    for (const [path, body] of reads()) {
      const res = await call(path, body, peek);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
      // What an internal user may not read is the route's own refusal, never the viewer rule's.
      const mine = await call(path, body, vic);
      expect(mine.status, `${path}: ${JSON.stringify(mine.body)}`).not.toBe(401);
      expect(JSON.stringify(mine.body)).not.toContain('Only proxy admin can be used');
    }
  });

  it('lets HEAD and OPTIONS through as reads', async () => {
    const head = await fetch(`${stack.url}/key/info`, { method: 'HEAD', headers: { authorization: `Bearer ${vic}` } });
    expect(head.status).toBe(200);
    // No route serves OPTIONS here: the router's 404, not the viewer rule's 401.
    const options = await call('/key/generate', undefined, vic, { method: 'OPTIONS' });
    expect(options).toMatchObject({ status: 404, body: { error: { message: 'Route not found: OPTIONS /key/generate' } } });
  });

  it('leaves a keyless caller on a public route (a view-only user, as in LiteLLM) to the route', async () => {
    expect((await call('/spend/calculate', { model: 'gpt-viewer', messages: [{ role: 'user', content: 'hi' }] }, null)).body.cost).toBeGreaterThan(0);
    const put = await call('/spend/calculate', {}, null, { method: 'PUT' });
    expect(put).toMatchObject({ status: 404, body: { error: { message: 'Route not found: PUT /spend/calculate' } } });
  });

  it('echoes at most 200 characters of the route it refuses', async () => {
    const long = `/credentials/${'x'.repeat(300)}`;
    const res = await call(long, { credential_info: {} }, peek, { method: 'PATCH' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(`user not allowed to access this route, role= proxy_admin_viewer. Trying to access: ${long.slice(0, 200)}`);
  });
});

describe("a viewer's key calls models through the gateway", () => {
  for (const [who, key] of [['internal_user_viewer', () => vic], ['proxy_admin_viewer', () => peek]] as const) {
    it(`${who}: a chat completion is answered, and the provider's refusal comes back as its error`, async () => {
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key(), maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: 'gpt-viewer', messages: [{ role: 'user', content: 'hello there' }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
      expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer sk-upstream-fake-0001');
      fake.enqueue({ kind: 'error', status: 400, body: { error: { message: 'Invalid value for messages', type: 'invalid_request_error', param: 'messages', code: null } } });
      const refused = await client.chat.completions.create({ model: 'gpt-viewer', messages: [{ role: 'user', content: 'bad' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('Invalid value for messages');
    });
  }
});
