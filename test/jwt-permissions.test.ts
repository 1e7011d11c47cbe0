import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { callerOf } from '../worker/auth/jwt-identity.ts';
import { checkJwtRoute } from '../worker/auth/jwt-permissions.ts';
import type { JwtAuthSettings } from '../worker/config/jwt-schema.ts';
import { validateConfig } from '../worker/config/validate.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, jwt, JWT_GENERAL, JWT_MODELS, stack, useJwtStack } from './support/jwt-stack.ts';
import { eventually } from './support/keys.ts';

/**
 * LiteLLM's JWT permissions (litellm_jwtauth: user_roles_jwt_field, user_allowed_roles, roles_jwt_field,
 * role_mappings, enforce_rbac, scope_mappings, enforce_scope_based_access, enforce_team_based_model_access, and
 * general_settings.role_permissions): one live stack on a fake IdP, the official openai client, and the config
 * and claim rules without a stack. Every live token carries the `models.all` scope unless a test is about scopes.
 */

useJwtStack(() => `${JWT_MODELS}${JWT_GENERAL}  role_permissions:
    - {role: internal_user, models: [mock-gpt], routes: [/v1/chat/completions, /chat/completions]}
    - {role: team, models: [gpt-x]}
    - {role: proxy_admin, routes: [/team/list, /team/new, /v1/chat/completions]}
  litellm_jwtauth:
    team_id_jwt_field: client_id
    user_email_jwt_field: email
    user_id_upsert: true
    team_id_upsert: true
    user_roles_jwt_field: roles
    user_allowed_roles: [basic_user]
    roles_jwt_field: resource_access.gw.roles
    role_mappings:
      - {role: gw-admin, internal_role: proxy_admin}
      - {role: gw-member, internal_role: internal_user}
    enforce_rbac: true
    scope_mappings:
      - {scope: models.all, models: [mock-gpt, gpt-x]}
      - {scope: models.mock, models: [mock-gpt]}
    enforce_scope_based_access: true
`);

const { call, rows } = adminClient(() => stack);
const chat = (token: string, model?: string) => chatAs(stack, token, model);
const ALL = 'openid models.all';
/** LiteLLM's generic refusal of a model (model_access_denied.py): the token's allowed models stay out of it. */
const DENIED = (model: string) => `The requested model '${model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`;

describe('enforce_rbac with user_roles_jwt_field and user_allowed_roles', () => {
  it('admits a token holding an allowed role as an internal user, held to its role_permissions models', async () => {
    const token = jwt({ email: 'rbac-basic@example.com', roles: ['basic_user'], scope: ALL });
    const ok = await chat(token);
    expect(ok.status, JSON.stringify(ok.error)).toBe(200);
    const refused = await chat(token, 'gpt-x');
    expect(refused.status).toBe(403);
    expect(refused.error).toMatchObject({ type: 'auth_error', param: 'model', code: '403' });
    expect(refused.error?.message).toBe(DENIED('gpt-x'));
    expect(refused.error?.message).not.toContain('mock-gpt');
    expect(refused.error?.message).not.toContain(token);
  });

  it('refuses a token with no team, user claim or allowed role (LiteLLM\'s words), and creates no user for it', async () => {
    const out = await chat(jwt({ email: 'rbac-nobody@example.com', roles: ['guest'], scope: ALL }));
    expect(out.status).toBe(403);
    expect(out.error?.message).toBe('Unmatched token passed in. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.');
    expect(await rows('SELECT 1 FROM "LiteLLM_UserTable" WHERE user_id = $1', ['rbac-nobody@example.com'])).toEqual([]);
    // An allowed role names no one: LiteLLM's 403 for a token its calls could not be billed to.
    const nameless = await chat(jwt({ roles: ['basic_user'], scope: ALL }));
    expect(nameless.status).toBe(403);
    expect(nameless.error?.message).toBe('No user or team id found in token. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.');
  });

  it('holds an internal user to its role_permissions routes: another route is a 403 naming the role', async () => {
    const token = jwt({ email: 'rbac-routes@example.com', roles: ['basic_user'], scope: ALL });
    const models = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(models.status).toBe(403);
    const body = await models.json() as { error: { message: string; type: string } };
    expect(body.error.message).toBe('Role=internal_user not allowed to call route=/v1/models. Allowed routes=["/v1/chat/completions","/chat/completions"]');
    // The OpenAI client's embeddings route is a model call on a route the role does not list.
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 });
    const err = await client.embeddings.create({ model: 'mock-gpt', input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
  });

  it('makes a token with the team claim the team role: held to the team\'s role_permissions models, and refused calls bill nothing', async () => {
    const token = jwt({ client_id: 'rbac-team', scope: ALL });
    const ok = await chat(token, 'gpt-x');
    expect(ok.status, JSON.stringify(ok.error)).toBe(200);
    const refused = await chat(token, 'mock-gpt');
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toBe(DENIED('mock-gpt'));
    // Spend rows are written after the answer: the token's key from its served call's row, then the refused call's
    // failure row, and only then a look for spend on the refused model.
    const [served] = await eventually(async () => {
      const found = await rows('SELECT api_key FROM "LiteLLM_SpendLogs" WHERE team_id = $1 AND status = $2', ['rbac-team', 'success']);
      return found.length ? found : undefined;
    });
    const failed = await eventually(async () => {
      const found = await rows('SELECT spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = $2 AND (model_group = $3 OR model = $3)', [served!.api_key, 'failure', 'mock-gpt']);
      return found.length ? found : undefined;
    });
    expect(failed.map((r) => Number(r.spend))).toEqual([0]);
    const spent = await rows('SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE (api_key = $1 OR team_id = $2) AND (model_group = $3 OR model = $3) AND spend > 0', [served!.api_key, 'rbac-team', 'mock-gpt']);
    expect(spent[0]?.n).toBe(0);
  });
});

describe('roles_jwt_field and role_mappings', () => {
  it('holds a token whose role maps to proxy_admin to that role\'s role_permissions, but makes no admin of it (only admin_jwt_scope does)', async () => {
    // A role names no one: the token is refused as any nameless one is.
    const nameless = await chat(jwt({ resource_access: { gw: { roles: ['gw-admin'] } }, scope: ALL }));
    expect(nameless.status).toBe(403);
    expect(nameless.error?.message).toBe('No user or team id found in token. enforce_rbac is set to True. Token must belong to a proxy admin, team, or user.');
    const token = jwt({ email: 'rbac-mapped-admin@example.com', resource_access: { gw: { roles: ['gw-admin'] } }, scope: ALL });
    expect((await chat(token, 'gpt-x')).status).toBe(200);
    const write = await call('/key/generate', {}, token);
    expect(write.status).toBe(403);
    expect(write.body.error.message).toBe('Role=proxy_admin not allowed to call route=/key/generate. Allowed routes=["/team/list","/team/new","/v1/chat/completions"]');
    // A route its role lists, but only a proxy admin may use: the token is the user its email names, not an admin.
    const created = await call('/team/new', { team_alias: 'rbac-mapped-admin-team' }, token);
    expect(created.status).not.toBe(200);
    expect(await rows('SELECT 1 FROM "LiteLLM_TeamTable" WHERE team_alias = $1', ['rbac-mapped-admin-team'])).toEqual([]);
  });

  it('gives a token whose role maps to internal_user that role: admitted as the user its email names', async () => {
    const token = jwt({ email: 'rbac-member@example.com', resource_access: { gw: { roles: ['gw-member'] } }, scope: ALL });
    expect((await chat(token)).status).toBe(200);
    expect((await chat(token, 'gpt-x')).error?.message).toBe(DENIED('gpt-x'));
    // An admin role elsewhere (the user roles claim) makes no admin: only roles_jwt_field is mapped.
    const elsewhere = jwt({ email: 'rbac-member@example.com', roles: ['gw-admin'], scope: ALL });
    expect((await chat(elsewhere)).status).toBe(403);
  });
});

describe('scope_mappings with enforce_scope_based_access', () => {
  it('lets a token call only the models its scopes grant: none without a mapped scope', async () => {
    const narrow = jwt({ client_id: 'scope-team', scope: 'openid models.mock', roles: [] });
    // The team role allows gpt-x; the scope grants mock-gpt only, so neither model may be called by this token.
    const scoped = await chat(narrow, 'gpt-x');
    expect(scoped.status).toBe(403);
    expect(scoped.error?.message).toBe(DENIED('gpt-x'));
    const none = await chat(jwt({ email: 'scope-none@example.com', roles: ['basic_user'], scope: 'openid' }));
    expect(none.status).toBe(403);
    expect(none.error?.message).toBe(DENIED('mock-gpt'));
    const granted = await chat(jwt({ email: 'scope-none@example.com', roles: ['basic_user'], scope: 'openid models.mock' }));
    expect(granted.status, JSON.stringify(granted.error)).toBe(200);
  });
});

describe('the settings in config.yaml', () => {
  const config = (general: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, ...general } }, {});
  const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));

  it('takes LiteLLM\'s permission settings without warning of them', () => {
    const result = config({
      role_permissions: [{ role: 'internal_user', models: ['m'], routes: ['openai_routes'] }],
      litellm_jwtauth: {
        user_roles_jwt_field: 'roles', user_allowed_roles: ['basic_user'], roles_jwt_field: 'realm_access.roles', enforce_rbac: true,
        role_mappings: [{ role: 'admin', internal_role: 'proxy_admin' }], scope_mappings: [{ scope: 's', models: ['m'], routes: ['/v1/models'] }],
        enforce_scope_based_access: true, enforce_team_based_model_access: true,
      },
    });
    expect(result.ok, errors(result)).toBe(true);
    expect(result.ok ? result.warnings.join('\n') : '').not.toMatch(/role|scope|enforce/);
  });

  it('refuses bad values, naming the setting', () => {
    expect(errors(config({ role_permissions: [{ role: 'superuser', models: ['m'] }] }))).toMatch(/general_settings\.role_permissions\[0\]\.role: expected one of proxy_admin, team, internal_user/);
    expect(errors(config({ litellm_jwtauth: { role_mappings: [{ role: 'a', internal_role: 'god' }] } }))).toMatch(/litellm_jwtauth\.role_mappings\[0\]\.internal_role: expected one of/);
    expect(errors(config({ litellm_jwtauth: { scope_mappings: [{ scope: 's', models: 'm' }] } }))).toMatch(/litellm_jwtauth\.scope_mappings\[0\]\.models: expected a list of strings/);
    expect(errors(config({ litellm_jwtauth: { enforce_rbac: 'sometimes' } }))).toMatch(/litellm_jwtauth\.enforce_rbac: expected true or false/);
    expect(errors(config({ litellm_jwtauth: { user_roles_jwt_field: 'a..b' } }))).toMatch(/litellm_jwtauth\.user_roles_jwt_field: expected a claim name or dot path/);
    // LiteLLM reads role_permissions from general_settings: under litellm_jwtauth it would silently grant more.
    expect(errors(config({ litellm_jwtauth: { role_permissions: [] } }))).toMatch(/litellm_jwtauth\.role_permissions: belongs in general_settings\.role_permissions/);
  });
});

describe('the permits a token\'s claims make', () => {
  const base: JwtAuthSettings = { team_id_jwt_field: 'client_id', team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub' };

  it('enforce_team_based_model_access refuses a token naming no team (LiteLLM\'s 403), not one with a team claim, a listed team or the admin scope', () => {
    const settings = { ...base, enforce_team_based_model_access: true };
    expect(() => callerOf({ sub: 'u' }, settings)).toThrow('No teams found in token. `enforce_team_based_model_access` is set to True. Token must belong to a team.');
    expect(callerOf({ sub: 'u', client_id: 't' }, settings).admin).toBe(false);
    expect(callerOf({ sub: 'u', groups: ['g1', 'g2'] }, settings).alternatives).toHaveLength(2);
    expect(callerOf({ scope: 'litellm_proxy_admin' }, settings).admin).toBe(true);
  });

  it('role_mappings to proxy_admin picks that role\'s permits, never an admin: the token must still name someone', () => {
    const settings: JwtAuthSettings = { ...base, roles_jwt_field: 'roles', role_mappings: [{ role: 'boss', internal_role: 'proxy_admin' }], enforce_rbac: true };
    const mapped = callerOf({ roles: ['boss'], client_id: 't' }, settings, [{ role: 'team', models: ['m'] }]);
    // The team claim comes first in LiteLLM's order: the mapping does not even pick the role here.
    expect(mapped).toMatchObject({ admin: false, permits: { role: 'team', roleModels: ['m'] } });
    const byMapping = callerOf({ roles: ['boss'], email: 'a@example.com' }, { ...settings, user_email_jwt_field: 'email' }, [{ role: 'proxy_admin', routes: ['/team/list'] }]);
    expect(byMapping.admin).toBe(false);
    expect(byMapping.permits).toMatchObject({ role: 'proxy_admin', roleRoutes: ['/team/list'] });
    expect(() => callerOf({ roles: ['boss'] }, settings)).toThrow('No user or team id found in token');
  });

  it('scope_mappings routes restrict routes only when a mapping lists routes', () => {
    const settings = { ...base, enforce_scope_based_access: true, scope_mappings: [{ scope: 'read', models: ['m'], routes: ['info_routes'] }, { scope: 'call', models: ['m'] }] };
    const reader = callerOf({ sub: 'u', scope: 'read' }, settings).permits!;
    expect(() => checkJwtRoute(reader, '/v1/models')).not.toThrow();
    expect(() => checkJwtRoute(reader, '/v1/chat/completions')).toThrow('Scopes not allowed to call route=/v1/chat/completions');
    expect(() => checkJwtRoute(callerOf({ sub: 'u', scope: 'call' }, settings).permits!, '/v1/models')).toThrow(/not allowed to call route/);
    const modelsOnly = { ...base, enforce_scope_based_access: true, scope_mappings: [{ scope: 'call', models: ['m'] }] };
    expect(callerOf({ sub: 'u', scope: 'call' }, modelsOnly).permits?.scopeRoutes).toBeUndefined();
  });

  it('costs nothing without a permission setting: the caller has no permits', () => {
    expect(callerOf({ sub: 'u', roles: ['x'] }, { ...base, user_roles_jwt_field: 'roles', user_allowed_roles: ['x'] }).permits).toBeUndefined();
  });
});
