import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { query } from './support/pg-client.ts';
import { chat, jwt, stack, useMappingStack } from './support/jwt-key-mapping-stack.ts';

/**
 * `unregistered_jwt_client_behavior: auto_register` under LiteLLM's JWT permission settings (enforce_rbac with
 * role_permissions, enforce_scope_based_access with scope_mappings), end to end through workerd: a token its role or
 * scopes limit is never minted a key (which would hold none of those limits), on any model, and is refused with a
 * 403 that says how to map the client instead.
 */

useMappingStack('auto_register', `    user_roles_jwt_field: roles
    user_allowed_roles: [basic_user]
    enforce_rbac: true
    enforce_scope_based_access: true
    scope_mappings:
      - {scope: mini, models: [gpt-mapped]}
  role_permissions:
    - {role: internal_user, models: [gpt-mapped]}
`);
const { ok: admin } = adminClient(() => stack);

const mappingsOf = async (client: string) => query(stack.db.url, 'SELECT id FROM "LiteLLM_JWTKeyMapping" WHERE jwt_claim_value = $1', [client]);
const autoKeys = async () => Number((await query<{ n: string }>(stack.db.url, `SELECT count(*) AS n FROM "LiteLLM_VerificationToken" WHERE created_by = 'auto_register'`))[0]?.n);

describe('auto_register and a token limited by its role or scopes', () => {
  it('mints no key for it: a model outside its limits stays a 403, and one inside is refused as unmappable', async () => {
    await admin('/user/new', { user_id: 'scoped-user', user_email: 'scoped@my-co.com' });
    const keysBefore = await autoKeys();
    const claims = { client_id: 'auto-scoped', sub: 'scoped-user', email: 'scoped@my-co.com', roles: ['basic_user'], scope: 'mini' };
    const wider = await chat(jwt(claims), 'gpt-other');
    expect(wider.status).toBe(403);
    expect(wider.error).toMatchObject({ type: 'auth_error', code: '403' });
    const inside = await chat(jwt({ ...claims, nonce: 'inside' }), 'gpt-mapped');
    expect(inside.status).toBe(403);
    expect(inside.error?.message).toContain("No registered mapping for client_id='auto-scoped'");
    expect(inside.error?.message).toContain('/jwt/key/mapping/new');
    // Nothing was written, so nothing afterwards is open to the client.
    expect(await mappingsOf('auto-scoped')).toHaveLength(0);
    expect(await autoKeys()).toBe(keysBefore);
    expect((await chat(jwt({ ...claims, nonce: 'after' }), 'gpt-other')).status).toBe(403);
  });

  it('refuses a token with no role under enforce_rbac as before (403), minting nothing', async () => {
    const keysBefore = await autoKeys();
    const refused = await chat(jwt({ client_id: 'auto-roleless', sub: 'scoped-user', email: 'scoped@my-co.com', scope: 'mini' }));
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toContain('enforce_rbac');
    expect(await mappingsOf('auto-roleless')).toHaveLength(0);
    expect(await autoKeys()).toBe(keysBefore);
  });
});
