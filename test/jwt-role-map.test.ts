import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { compileGlob, fnmatch, mappedUserRole } from '../worker/auth/jwt-role-map.ts';
import { callerOf } from '../worker/auth/jwt-caller.ts';
import type { JwtAuthSettings } from '../worker/config/jwt-schema.ts';

/**
 * litellm_jwtauth.jwt_litellm_role_map's matching (Python's fnmatch, without backtracking) and its settings in
 * config.yaml; the end-to-end behaviour is in jwt-role-sync.test.ts.
 */

describe('jwt_role patterns match as fnmatch does', () => {
  it('*, ?, sets, negated sets and ranges; everything else literal, case included', () => {
    expect(fnmatch('AI_ADMIN_READ', 'AI_ADMIN_*')).toBe(true);
    expect(fnmatch('ai_admin_read', 'AI_ADMIN_*')).toBe(false);
    expect(fnmatch('role1', 'r?le[!x]')).toBe(true);
    expect(fnmatch('rolex', 'r?le[!x]')).toBe(false);
    expect(fnmatch('axb', 'a.b')).toBe(false);
    expect(fnmatch('a.b', 'a.b')).toBe(true);
    expect(fnmatch('team-7', 'team-[0-9]')).toBe(true);
    expect(fnmatch('team-x', 'team-[0-9]')).toBe(false);
    expect(fnmatch(']', '[]]')).toBe(true);
    expect(fnmatch('[abc', '[abc')).toBe(true);
    expect(fnmatch('a-', 'a[a-]')).toBe(true);
    expect(fnmatch('', '*')).toBe(true);
    expect(fnmatch('abc', 'a*b*c*')).toBe(true);
    expect(fnmatch('abcd', 'a*b?')).toBe(false);
  });

  it('a reversed range matches nothing (a negated one: any character), as Python drops it, and never throws', () => {
    expect(() => fnmatch('m', '[z-a]')).not.toThrow();
    expect(fnmatch('m', '[z-a]')).toBe(false);
    expect(fnmatch('z', '[z-a]')).toBe(false);
    expect(fnmatch('m', '[!z-a]')).toBe(true);
    expect(compileGlob('[z-a]').problem).toMatch(/z-a .*reversed/);
    expect(compileGlob('team-[0-9]').problem).toBeUndefined();
  });

  it('a pathological pattern against a long role finishes at once', () => {
    const started = performance.now();
    expect(fnmatch('a'.repeat(100), '*a*a*a*a*a*a*b')).toBe(false);
    expect(fnmatch(`${'a'.repeat(255)}b`, '*a*a*a*a*a*a*a*a*a*a*b')).toBe(true);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('the first entry in order wins; roles over 256 characters and past the 256th are skipped', () => {
    const map: JwtAuthSettings = { roles_jwt_field: 'roles', jwt_litellm_role_map: [{ jwt_role: 'x-*', litellm_role: 'internal_user' }, { jwt_role: 'x-admin', litellm_role: 'proxy_admin' }, { jwt_role: '*b', litellm_role: 'proxy_admin_viewer' }] };
    expect(mappedUserRole({ roles: ['x-admin'] }, map)).toBe('internal_user');
    expect(mappedUserRole({ roles: 'y' }, map)).toBeUndefined();
    expect(mappedUserRole({ roles: `${'a'.repeat(256)}b` }, map)).toBeUndefined();
    expect(mappedUserRole({ roles: `${'a'.repeat(255)}b` }, map)).toBe('proxy_admin_viewer');
    expect(mappedUserRole({ roles: [...Array(256).fill('n'), 'x-1'] }, map)).toBeUndefined();
    const started = performance.now();
    expect(mappedUserRole({ roles: Array(10_000).fill('a'.repeat(10_000)) }, map)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('a token takes a mapped role only with sync_user_role_and_teams and only when it names a user', () => {
  const base: JwtAuthSettings = { user_id_jwt_field: 'sub', team_id_jwt_field: 'team', roles_jwt_field: 'roles', jwt_litellm_role_map: [{ jwt_role: 'admins', litellm_role: 'proxy_admin' }] };
  it('with the sync: a user\'s token has the role; a team-only token has none', () => {
    const on = { ...base, sync_user_role_and_teams: true };
    expect(callerOf({ sub: 'u1', roles: ['admins'] }, on).userRole).toBe('proxy_admin');
    expect(callerOf({ team: 't1', roles: ['admins'] }, on).userRole).toBeUndefined();
  });
  it('without the sync: no role at all, as in LiteLLM', () => {
    expect(callerOf({ sub: 'u1', roles: ['admins'] }, base).userRole).toBeUndefined();
  });
});

describe('the settings in config.yaml', () => {
  const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});
  const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));
  const warnings = (result: ReturnType<typeof config>) => result.warnings.join('\n');

  it('takes both together without warning of them', () => {
    const result = config({ roles_jwt_field: 'roles', sync_user_role_and_teams: true, jwt_litellm_role_map: [{ jwt_role: 'A*', litellm_role: 'internal_user' }] });
    expect(result.ok).toBe(true);
    expect(warnings(result)).not.toMatch(/jwt_litellm_role_map|sync_user_role_and_teams/);
  });

  it('warns that the map has no effect without sync_user_role_and_teams', () => {
    const result = config({ roles_jwt_field: 'roles', jwt_litellm_role_map: [{ jwt_role: 'A*', litellm_role: 'proxy_admin' }] });
    expect(result.ok).toBe(true);
    expect(warnings(result)).toMatch(/jwt_litellm_role_map: has no effect without sync_user_role_and_teams, as in LiteLLM/);
  });

  it('refuses a role LiteLLM does not have, a map without roles_jwt_field, a bad pattern, and a sync flag that is not a boolean', () => {
    const ok = { roles_jwt_field: 'roles', sync_user_role_and_teams: true };
    expect(errors(config({ ...ok, jwt_litellm_role_map: [{ jwt_role: 'A', litellm_role: 'internal_user_view_only' }] }))).toMatch(/jwt_litellm_role_map\[0\]\.litellm_role: expected one of proxy_admin/);
    expect(errors(config({ sync_user_role_and_teams: true, jwt_litellm_role_map: [{ jwt_role: 'A', litellm_role: 'proxy_admin' }] }))).toMatch(/jwt_litellm_role_map: has no effect without roles_jwt_field/);
    expect(errors(config({ ...ok, jwt_litellm_role_map: [{ jwt_role: 'ok', litellm_role: 'proxy_admin' }, { jwt_role: 'team-[z-a]', litellm_role: 'proxy_admin' }] })))
      .toMatch(/jwt_litellm_role_map\[1\]\.jwt_role: the range z-a in "team-\[z-a\]" is reversed/);
    expect(errors(config({ ...ok, jwt_litellm_role_map: [{ jwt_role: 'a'.repeat(257), litellm_role: 'proxy_admin' }] }))).toMatch(/jwt_litellm_role_map\[0\]\.jwt_role: is longer than 256/);
    expect(errors(config({ sync_user_role_and_teams: 'yes' }))).toMatch(/sync_user_role_and_teams/);
  });
});
