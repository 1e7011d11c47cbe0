import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { callerOf, jwtSubject, jwtToken } from './jwt-identity.ts';
import { looksLikeJwt } from './jwt-verify.ts';
import { validateConfig } from '../config/validate.ts';

describe('a JWT\'s caller', () => {
  const settings = { team_id_jwt_field: 'client_id', team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub', org_id_jwt_field: 'tenant.org' };

  it('is a proxy admin when its scope holds the admin scope (the default name, or the config\'s)', () => {
    expect(callerOf({ scope: 'openid litellm_proxy_admin email' }, settings).admin).toBe(true);
    expect(callerOf({ scp: ['litellm_proxy_admin'] }, settings).admin).toBe(true);
    expect(callerOf({ scope: 'litellm_proxy_admin', sub: 'u' }, { ...settings, admin_jwt_scope: 'gw-admin' }).admin).toBe(false);
    expect(callerOf({ scope: 'gw-admin' }, { ...settings, admin_jwt_scope: 'gw-admin' }).admin).toBe(true);
  });

  it('names its team by the team claim, else the first of its groups, else the default team; its user and organization by theirs (dot paths too)', () => {
    const subject = (claims: Record<string, unknown>, more = {}) => jwtSubject(callerOf(claims, { ...settings, ...more }).token);
    expect(subject({ client_id: 'team-a', groups: ['team-b'], sub: 'alice', tenant: { org: 'org-1' } })).toEqual({ teamId: 'team-a', userId: 'alice', orgId: 'org-1' });
    expect(subject({ groups: ['', 'team-b', 'team-c'], sub: 'alice' })).toEqual({ teamId: 'team-b', userId: 'alice', orgId: null });
    expect(subject({ sub: 'alice' }, { team_id_default: 'everyone' })).toEqual({ teamId: 'everyone', userId: 'alice', orgId: null });
    expect(subject({ sub: 'alice' })).toEqual({ teamId: null, userId: 'alice', orgId: null });
    expect(subject({ client_id: 42 })).toEqual({ teamId: '42', userId: null, orgId: null });
  });

  it('is refused (401) when the token names no one the settings map', () => {
    let err: unknown;
    try {
      callerOf({ email: 'a@example.com', scope: 'openid' }, settings);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(401);
    expect((err as GatewayError).message).toMatch(/^Authentication Error, JWT names no team, user or admin scope/);
  });
});

describe('the key a JWT\'s subject is admitted as', () => {
  it('gives back its ids, whatever characters they hold, and is never a key hash', () => {
    const subject = { teamId: 'tëam:1/+', userId: null, orgId: 'o"rg' };
    const token = jwtToken(subject);
    expect(token).toMatch(/^jwt:[A-Za-z0-9_-]+$/);
    expect(jwtSubject(token)).toEqual(subject);
  });

  it('is undefined for anything else', () => {
    expect(jwtSubject('88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b')).toBeUndefined();
    expect(jwtSubject('jwt:not-base64-json')).toBeUndefined();
    expect(jwtSubject(`jwt:${btoa(JSON.stringify(['a', 'b']))}`)).toBeUndefined();
  });
});

describe('which credentials are JWTs', () => {
  it('takes three base64url parts, nothing else', () => {
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln')).toBe(true);
    expect(looksLikeJwt('sk-1234')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
    expect(looksLikeJwt('a b.c.d')).toBe(false);
  });
});

describe('litellm_jwtauth in config.yaml', () => {
  it('refuses an empty team_allowed_routes, which would let a token call every route', () => {
    const config = (routes: string[]) => ({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: { team_allowed_routes: routes } } });
    const empty = validateConfig(config([]), {});
    expect(empty.ok).toBe(false);
    expect(empty.ok ? [] : empty.errors.join('\n')).toMatch(/general_settings\.litellm_jwtauth\.team_allowed_routes: expected at least one route/);
    expect(validateConfig(config(['openai_routes']), {}).ok).toBe(true);
  });
});
