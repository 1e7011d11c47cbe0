import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from './fakes/jwks.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient } from './support/admin.ts';
import { untilStatus } from './support/jwt-key-mapping-stack.ts';
import { chatAs } from './support/jwt-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's JWT permission settings (enforce_rbac, enforce_team_based_model_access, role_permissions) on a gateway
 * that also maps a client claim to virtual keys: a mapped token is let past only the refusals of a token naming no
 * one, never the email domain check; and an admin-scope token (a proxy admin, but held to its role's models) is held
 * to those models on provider pass-through too. A fake IdP and a fake OpenAI upstream on loopback.
 */

const PROVIDER_KEY = 'sk-provider-secret-0042';
let idp: FakeIdp;
let upstream: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  [idp, upstream] = await Promise.all([startFakeIdp(), startFakeUpstream()]);
  stack = await startTestStack({
    env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl },
    configYaml: `
model_list:
  - model_name: gpt-mapped
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}/v1", api_key: ${PROVIDER_KEY}, use_in_pass_through: true}
  - model_name: gpt-other
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: ${PROVIDER_KEY}}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  enable_jwt_auth: true
  role_permissions:
    - {role: proxy_admin, models: [gpt-mapped]}
  litellm_jwtauth:
    team_id_jwt_field: team_id
    user_id_jwt_field: sub
    user_email_jwt_field: email
    user_allowed_email_domain: my-co.com
    virtual_key_claim_field: client_id
    enforce_rbac: true
    enforce_team_based_model_access: true
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([idp?.close(), upstream?.close()]);
});
beforeEach(() => upstream.reset());

const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });
const { ok: admin, generate } = adminClient(() => stack);
const DENIED = (model: string) => `The requested model '${model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`;

describe('a mapped token under enforce_rbac and enforce_team_based_model_access', () => {
  it('is let past naming no team, user or role, but never past user_allowed_email_domain (403, nothing sent upstream)', async () => {
    const { key } = await generate({ models: ['gpt-mapped'] });
    await admin('/jwt/key/mapping/new', { jwt_claim_name: 'client_id', jwt_claim_value: 'svc-perm', key });
    // No team, user or role (enforce_rbac's "Unmatched token"), and a user but no team (enforce_team_based_model_access's
    // "No teams found"): both call as the key once mapped.
    for (const claims of [{ email: 'dev@my-co.com' }, { sub: 'dev-user', email: 'dev@my-co.com' }]) {
      const called = await untilStatus(() => chatAs(stack, jwt({ client_id: 'svc-perm', ...claims }), 'gpt-mapped'), 200);
      expect(called.status, JSON.stringify(called.error)).toBe(200);
    }
    upstream.reset();
    for (const claims of [{ email: 'dev@elsewhere.example' }, { sub: 'dev-user', email: 'dev@elsewhere.example' }]) {
      const token = jwt({ client_id: 'svc-perm', ...claims });
      const refused = await chatAs(stack, token, 'gpt-mapped');
      expect(refused.status, JSON.stringify(claims)).toBe(403);
      expect(refused.error).toMatchObject({ type: 'auth_error', param: 'user_email', code: '403' });
      expect(refused.error?.message).toContain('email domain is not allowed');
      expect(refused.error?.message).not.toContain(token);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('an unmapped token is still refused as naming no team (LiteLLM\'s 403)', async () => {
    const refused = await chatAs(stack, jwt({ client_id: 'svc-unmapped', sub: 'dev-user', email: 'dev@my-co.com' }), 'gpt-mapped');
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toContain('No teams found in token.');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('an admin-scope token held to role_permissions for proxy_admin', () => {
  const adminToken = () => jwt({ sub: 'ops', scope: 'openid litellm_proxy_admin' });

  it('provider pass-through: a model its role does not list is refused before the provider, one it lists is served', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/openai_passthrough/v1`, apiKey: adminToken(), maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'gpt-other', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: DENIED('gpt-other'), type: 'auth_error', param: 'model', code: '403' });
    expect(upstream.requests).toHaveLength(0);

    const done = await client.chat.completions.create({ model: 'gpt-mapped', messages: [{ role: 'user', content: 'hi' }] });
    expect(done.choices.length).toBeGreaterThan(0);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
  });

  it('the chat route holds it the same way, and it stays a proxy admin on the admin API', async () => {
    const refused = await chatAs(stack, adminToken(), 'gpt-other');
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toBe(DENIED('gpt-other'));
    expect((await chatAs(stack, adminToken(), 'gpt-mapped')).status).toBe(200);
    const listed = await fetch(`${stack.url}/key/list`, { headers: { authorization: `Bearer ${adminToken()}` } });
    expect(listed.status).toBe(200);
  });
});
