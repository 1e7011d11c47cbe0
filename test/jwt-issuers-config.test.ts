import { describe, expect, it } from 'vitest';
import { issuerView } from '../worker/auth/jwt-issuers.ts';
import { callerOf, jwtSubject } from '../worker/auth/jwt-identity.ts';
import { validateConfig } from '../worker/config/validate.ts';

/**
 * litellm_jwtauth.issuers and the OIDC UserInfo settings without a stack: what config.yaml takes of them (a bad value
 * fails naming the setting), and who an issuer entry's claim fields make a token. On a live stack: jwt-issuers,
 * jwt-issuers-userinfo.
 */

const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});
const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));
const warnings = (result: ReturnType<typeof config>) => (result.ok ? result.warnings.join('\n') : '');

describe('issuers in config.yaml', () => {
  it('takes LiteLLM\'s entries without warning of them', () => {
    const result = config({
      issuers: [
        { issuer: 'https://a.example.test', audience: 'tollgate', jwks_url: 'https://a.example.test/jwks', user_id_jwt_field: 'sub', team_ids_jwt_field: 'groups' },
        { issuer: 'https://b.example.test/', audience: ['tollgate', 'other'], team_id_jwt_field: 'sub', end_user_id_jwt_field: 'customer.id' },
        { issuer: 'https://c.example.test', disable_audience_validation: true },
      ],
    });
    expect(errors(result)).toBe('');
    expect(warnings(result)).not.toMatch(/issuers|audience|jwks_url/);
  });

  it('refuses an entry without an audience unless disable_audience_validation says so, and both together', () => {
    expect(errors(config({ issuers: [{ issuer: 'https://a.example.test' }] }))).toMatch(/general_settings\.litellm_jwtauth\.issuers\[0\]\.audience: is required/);
    expect(errors(config({ issuers: [{ issuer: 'https://a.example.test', audience: 'x', disable_audience_validation: true }] })))
      .toMatch(/issuers\[0\]\.disable_audience_validation: cannot be combined with audience/);
  });

  it('refuses a missing issuer, a jwks_url that is not http(s), a broken claim path, and one issuer listed twice', () => {
    expect(errors(config({ issuers: [{ audience: 'x' }] }))).toMatch(/issuers\[0\]\.issuer: is required/);
    expect(errors(config({ issuers: [{ issuer: 'a', audience: 'x', jwks_url: 'file:///etc/keys' }] }))).toMatch(/issuers\[0\]\.jwks_url: expected an http\(s\) URL/);
    expect(errors(config({ issuers: [{ issuer: 'a', audience: 'x', user_id_jwt_field: 'a..b' }] }))).toMatch(/issuers\[0\]\.user_id_jwt_field: expected a claim name or dot path/);
    const twice = { issuer: 'https://a.example.test', audience: 'x' };
    expect(errors(config({ issuers: [twice, { ...twice, audience: 'y' }] }))).toMatch(/issuers\[1\]\.issuer: "https:\/\/a\.example\.test" is listed twice/);
    expect(errors(config({ issuers: { issuer: 'a' } }))).toMatch(/litellm_jwtauth\.issuers: expected a list/);
  });

  it('refuses an issuer that is not an http(s) URL without a jwks_url (its keys could never be found), naming the setting', () => {
    expect(errors(config({ issuers: [{ issuer: 'acme-idp', audience: 'x' }] })))
      .toMatch(/issuers\[0\]\.jwks_url: is required when issuer \("acme-idp"\) is not an http\(s\) URL/);
    expect(errors(config({ issuers: [{ issuer: 'acme-idp', audience: 'x', jwks_url: 'https://idp.example.test/jwks' }] }))).toBe('');
  });
});

describe('the OIDC UserInfo settings in config.yaml', () => {
  it('take LiteLLM\'s names without warning', () => {
    const result = config({ oidc_userinfo_enabled: true, oidc_userinfo_endpoint: 'https://idp.example.test/userinfo', oidc_userinfo_cache_ttl: 60 });
    expect(errors(result)).toBe('');
    expect(warnings(result)).not.toMatch(/oidc_userinfo/);
  });

  it('refuse oidc_userinfo_enabled without an endpoint, a bad URL and a bad TTL, naming the setting', () => {
    expect(errors(config({ oidc_userinfo_enabled: true }))).toMatch(/litellm_jwtauth\.oidc_userinfo_endpoint: is required with oidc_userinfo_enabled: true/);
    expect(errors(config({ oidc_userinfo_enabled: true, oidc_userinfo_endpoint: 'not a url' }))).toMatch(/oidc_userinfo_endpoint: expected an http\(s\) URL/);
    expect(errors(config({ oidc_userinfo_cache_ttl: -1 }))).toMatch(/oidc_userinfo_cache_ttl: must not be negative/);
    expect(errors(config({ oidc_userinfo_enabled: 'maybe' }))).toMatch(/oidc_userinfo_enabled: expected true or false/);
  });
});

describe('an issuer entry\'s claim fields', () => {
  const global = { team_id_jwt_field: 'client_id', user_id_jwt_field: 'sub', team_id_default: 'everyone' };
  const entry = { issuer: 'https://a.example.test', audience: 'x', team_id_jwt_field: 'roles', user_id_jwt_field: 'oid', org_id_jwt_field: 'tenant' };
  const subject = (claims: Record<string, unknown>) => {
    const { claims: read, settings } = issuerView(claims, entry, global);
    return jwtSubject(callerOf(read, settings).token);
  };

  it('override the global ones for the entry\'s tokens; a list under team_id_jwt_field gives its first', () => {
    expect(subject({ sub: 's', oid: 'o-1', client_id: 'c', roles: ['r-1', 'r-2'], tenant: 't-1' })).toEqual({ teamId: 'r-1', userId: 'o-1', orgId: 't-1' });
  });

  it('leave a claim the token does not have (or has empty) to the global setting, team_id_default included', () => {
    expect(subject({ sub: 's', client_id: 'c', roles: '' })).toEqual({ teamId: 'c', userId: 's', orgId: null });
    expect(subject({ sub: 's' })).toEqual({ teamId: 'everyone', userId: 's', orgId: null });
  });

  it('leave the global settings untouched and drop the token\'s own internal claims, even where a global setting names one', () => {
    const naming = { ...global, team_id_jwt_field: '_litellm_team_id', org_id_jwt_field: '_litellm_org_id' };
    const forged = { sub: 's', _litellm_team_id: 'forged', _litellm_org_id: 'forged-org', _litellm_user_id: 'forged', _litellm_jwt_issuer: 'x' };
    const { claims: read, settings } = issuerView(forged, entry, naming);
    expect(Object.keys(read).filter((name) => name.startsWith('_litellm_'))).toEqual([]);
    expect(jwtSubject(callerOf(read, settings).token)).toEqual({ teamId: 'everyone', userId: 's', orgId: null });
    // The entry's own claim still fills the internal name it reads through.
    expect(issuerView({ ...forged, roles: 'r-1' }, entry, naming).claims).toMatchObject({ _litellm_team_id: 'r-1' });
    expect(global).toEqual({ team_id_jwt_field: 'client_id', user_id_jwt_field: 'sub', team_id_default: 'everyone' });
  });
});
