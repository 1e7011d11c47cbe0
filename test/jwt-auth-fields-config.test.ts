import { describe, expect, it } from 'vitest';
import { callerOf, jwtSubject } from '../worker/auth/jwt-identity.ts';
import { validateConfig } from '../worker/config/validate.ts';
import type { Claims } from './fakes/jwks.ts';

/**
 * end_user_id_jwt_field, user_email_jwt_field and team_id_default without a stack: what config.yaml takes of them,
 * and the caller a token's claims make. Their calls on a live stack: jwt-auth-fields, jwt-auth-team-list.
 */

describe('the new settings in config.yaml', () => {
  const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});
  const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));

  it('takes claim names and dot paths, without warning of them', () => {
    const result = config({ end_user_id_jwt_field: 'customer.id', user_email_jwt_field: 'email' });
    expect(result.ok).toBe(true);
    expect(result.ok ? result.warnings.join('\n') : '').not.toMatch(/end_user_id_jwt_field|user_email_jwt_field/);
  });

  it('refuses a claim that is not a string, empty, or a broken dot path, naming the setting', () => {
    expect(errors(config({ end_user_id_jwt_field: 42 }))).toMatch(/general_settings\.litellm_jwtauth\.end_user_id_jwt_field: expected a string/);
    expect(errors(config({ user_email_jwt_field: '' }))).toMatch(/general_settings\.litellm_jwtauth\.user_email_jwt_field: expected a claim name or dot path/);
    expect(errors(config({ end_user_id_jwt_field: 'customer..id' }))).toMatch(/end_user_id_jwt_field: expected a claim name or dot path/);
  });
});

describe('the caller a token with these claims is', () => {
  const settings = { team_id_jwt_field: 'client_id', user_id_jwt_field: 'sub', user_email_jwt_field: 'email', end_user_id_jwt_field: 'customer.id' };

  it('keeps the end user out of its made-up key, and the key of a token without an email as it was', () => {
    const a = callerOf({ sub: 'u', client_id: 't', customer: { id: 'c-1' } }, settings);
    const b = callerOf({ sub: 'u', client_id: 't', customer: { id: 'c-2' } }, settings);
    expect(a.endUser).toBe('c-1');
    expect(b.token).toBe(a.token);
    // Without an email the key is the three ids it always was: callers, their spend and their objects stay theirs.
    expect(a.token).toBe(`jwt:${Buffer.from(JSON.stringify(['t', 'u', null])).toString('base64url')}`);
    expect(jwtSubject(a.token)).toEqual({ teamId: 't', userId: 'u', orgId: null });
  });

  it('carries the email in its key, for the user lookup and upsert', () => {
    expect(jwtSubject(callerOf({ sub: 'u', email: 'U@example.com' }, settings).token)).toEqual({ teamId: null, userId: 'u', orgId: null, email: 'U@example.com' });
    expect(jwtSubject(callerOf({ email: 'only@example.com' }, settings).token)).toMatchObject({ userId: 'only@example.com', email: 'only@example.com' });
  });

  it('has no end user when the claim is absent or not a string or number', () => {
    expect(callerOf({ sub: 'u', customer: { id: { nested: true } } }, settings).endUser).toBeUndefined();
    expect(callerOf({ sub: 'u' }, settings).endUser).toBeUndefined();
    expect(callerOf({ sub: 'u', customer: { id: 7 } }, settings).endUser).toBe('7');
  });
});

describe('team_id_default beside team_ids_jwt_field', () => {
  it('comes before the list claim, as in LiteLLM; the list\'s first entry only without a default', () => {
    const settings = { team_id_jwt_field: 'client_id', team_ids_jwt_field: 'groups', user_id_jwt_field: 'sub' };
    const team = (claims: Claims, more = {}) => jwtSubject(callerOf(claims, { ...settings, ...more }).token)?.teamId;
    expect(team({ sub: 'u', groups: ['g-1', 'g-2'] }, { team_id_default: 'everyone' })).toBe('everyone');
    expect(team({ sub: 'u', client_id: 'c', groups: ['g-1'] }, { team_id_default: 'everyone' })).toBe('c');
    expect(team({ sub: 'u', groups: ['g-1', 'g-2'] })).toBe('g-1');
  });
});
