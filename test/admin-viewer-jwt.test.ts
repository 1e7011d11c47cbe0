import { beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { chatAs, JWT_AUTH_ON, JWT_MODELS, jwt, stack, useJwtStack } from './support/jwt-stack.ts';

// A JWT naming a user stored with a viewer role is that viewer on the admin API, whatever its token's role (no
// jwt_litellm_role_map here, so the token alone would be internal_user): team_allowed_routes and
// personal_key_generation open /key/generate to it, and the viewer rule (admin-worker/lib/viewer-writes.ts) still
// refuses it, in LiteLLM's words, its user id masked.

useJwtStack(() => `${JWT_MODELS}litellm_settings:
  timezone: UTC
  key_generation_settings:
    personal_key_generation: {allowed_user_roles: [internal_user, internal_user_viewer, proxy_admin_viewer]}
${JWT_AUTH_ON}  litellm_jwtauth:
    user_id_jwt_field: sub
    team_allowed_routes: [openai_routes, info_routes, /key/generate]
`);

const { call, rows, count } = adminClient(() => stack);
const token = (sub: string) => jwt({ sub });

beforeAll(async () => {
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES
    ('jwt-viewer-user', 'internal_user_viewer'), ('jwt-admin-viewer', 'proxy_admin_viewer'), ('jwt-plain-user', 'internal_user')`);
});

/** LiteLLM's 401 for an internal_user_viewer's write, with its user id as _mask_user_id shows it. */
const refusal = (masked: string) => ({
  status: 401,
  body: { error: {
    message: 'Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. '
      + `Route=/key/generate. Your role=internal_user_viewer. Your user_id=${masked}`,
    type: 'auth_error', param: 'None', code: '401',
  } },
});

describe('a JWT for a user stored as a viewer', () => {
  it('is refused /key/generate under personal_key_generation, and no key is made', async () => {
    const before = await count('LiteLLM_VerificationToken');
    const res = await call('/key/generate', { key_alias: 'jwt-viewer-made' }, token('jwt-viewer-user'));
    expect(res).toEqual(refusal('jwt-vi*******er'));
    expect(JSON.stringify(res.body)).not.toContain('jwt-viewer-user');
    expect(await count('LiteLLM_VerificationToken')).toBe(before);
  });

  it('stored as proxy_admin_viewer, is an internal_user_viewer to a token that is no admin: refused, never widened', async () => {
    const before = await count('LiteLLM_VerificationToken');
    const res = await call('/key/generate', {}, token('jwt-admin-viewer'));
    expect(res).toEqual(refusal('jwt-ad********er'));
    expect(await count('LiteLLM_VerificationToken')).toBe(before);
  });

  it('still calls models', async () => {
    expect((await chatAs(stack, token('jwt-viewer-user'))).status).toBe(200);
  });
});

describe('a JWT for a user stored as internal_user (unchanged)', () => {
  it('mints its personal key', async () => {
    const res = await call('/key/generate', { key_alias: 'jwt-plain-made' }, token('jwt-plain-user'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ key_alias: 'jwt-plain-made', user_id: 'jwt-plain-user' });
  });
});
