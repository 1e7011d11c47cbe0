import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.admin_only_routes: listed routes, of the admin API and of the gateway, for proxy admins only.

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  admin_only_routes: ["/key/info", "/v1/models", "/health"]
`;

let stack: TestStack;
const { call, ok } = adminClient(() => stack);
let adminKey: string;
let internalKey: string;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
  adminKey = (await ok('/user/new', { user_id: 'root', user_role: 'proxy_admin' })).key as string;
  internalKey = (await ok('/user/new', { user_id: 'plain', user_role: 'internal_user' })).key as string;
});
afterAll(async () => stack?.stop());

const refusal = (route: string) => ({
  error: { message: `user not allowed to access this route. Route=${route} is an admin only route`, type: 'auth_error' },
});

describe('admin_only_routes', () => {
  it('lets the master key and a proxy_admin user\'s key call a listed admin route, and refuses an internal user\'s key in LiteLLM\'s words', async () => {
    expect((await call(`/key/info?key=${internalKey}`, undefined, TEST_MASTER_KEY)).status).toBe(200);
    expect((await call(`/key/info?key=${adminKey}`, undefined, adminKey)).status).toBe(200);
    // Its own key's info, which an internal user may read where the route is not listed.
    const refused = await call(`/key/info?key=${internalKey}`, undefined, internalKey);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject(refusal('/key/info'));
  });

  it('holds a listed gateway route the same way, and leaves unlisted routes alone', async () => {
    expect((await call('/v1/models', undefined, TEST_MASTER_KEY)).status).toBe(200);
    expect((await call('/v1/models', undefined, adminKey)).status).toBe(200);
    const refused = await call('/v1/models', undefined, internalKey);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject(refusal('/v1/models'));
    // Exact paths, as LiteLLM compares them: /models is not /v1/models.
    expect((await call('/models', undefined, internalKey)).status).toBe(200);
    expect((await call('/user/info', undefined, internalKey)).status).toBe(200);
    // /health, registered before most routes, is held too (its model probes cost money).
    const health = await call('/health', undefined, internalKey);
    expect(health.status).toBe(403);
    expect(health.body).toMatchObject(refusal('/health'));
  });

  it('refuses a key a team admin made for a user who is now a proxy admin, on the gateway as on the admin API', async () => {
    // rising is in team-t, which plain administers; plain keys rising (a delegated key: worker/auth/delegation.ts).
    const own = (await ok('/user/new', { user_id: 'rising', user_role: 'internal_user' })).key as string;
    await ok('/team/new', { team_id: 'team-t', members_with_roles: [{ role: 'admin', user_id: 'plain' }, { role: 'user', user_id: 'rising' }] });
    const delegated = (await ok('/key/generate', { team_id: 'team-t', user_id: 'rising' }, internalKey)).key as string;
    await ok('/user/update', { user_id: 'rising', user_role: 'proxy_admin' });
    // rising's own key is a proxy admin's now; the key plain made for rising is not.
    expect((await call('/v1/models', undefined, own)).status).toBe(200);
    const refused = await call('/v1/models', undefined, delegated);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject(refusal('/v1/models'));
    expect((await call(`/key/info?key=${delegated}`, undefined, delegated)).body).toMatchObject(refusal('/key/info'));
    // It still calls models as rising where the route is not listed.
    expect((await call('/models', undefined, delegated)).status).toBe(200);
  });

  it('authenticates first: an unknown key on a listed route is a 401, not the admin-only 403', async () => {
    expect((await call('/v1/models', undefined, 'sk-never-issued-0000')).status).toBe(401);
    expect((await call('/key/info', undefined, 'sk-never-issued-0000')).status).toBe(401);
  });
});
