import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { claimAt } from './jwt-claims.ts';
import { callerOf, jwtSubject } from './jwt-identity.ts';
import { issuerView } from './jwt-issuers.ts';
import { clientOf } from './jwt-key-mapping.ts';

/**
 * How a JWT's alias claims (`team_alias_jwt_field`, `org_alias_jwt_field`) name its team and organization without
 * deciding its RBAC role, and the `\.` escape read alike by every claim setting.
 */

const K8S = { 'kubernetes.io': { namespace: 'payments' } };
const refusalOf = (run: () => unknown): GatewayError => {
  try {
    run();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('not refused');
};

describe('the team alias and the RBAC role', () => {
  const settings = {
    user_id_jwt_field: 'sub', team_alias_jwt_field: 'kubernetes\\.io.namespace', enforce_rbac: true,
  };
  const rolePermissions = [
    { role: 'internal_user' as const, models: ['user-model'] },
    { role: 'team' as const, models: ['team-model'] },
  ];

  it('leaves a token with a user claim and a team alias an internal_user, held to that role\'s models, in the alias\'s team', () => {
    const caller = callerOf({ sub: 'svc-1', ...K8S }, settings, rolePermissions);
    expect(caller.permits).toMatchObject({ role: 'internal_user', roleModels: ['user-model'] });
    expect(jwtSubject(caller.token)).toMatchObject({ userId: 'svc-1', teamAlias: 'payments', teamId: null });
  });

  it('gives no role to a token named only by its team alias: enforce_rbac refuses it (403)', () => {
    const err = refusalOf(() => callerOf({ ...K8S }, settings, rolePermissions));
    expect(err.status).toBe(403);
    expect(err.message).toContain('Unmatched token passed in. enforce_rbac is set to True.');
  });

  it('counts the alias as a team for enforce_team_based_model_access', () => {
    const caller = callerOf({ sub: 'svc-1', ...K8S }, { ...settings, enforce_rbac: false, enforce_team_based_model_access: true });
    expect(jwtSubject(caller.token)).toMatchObject({ teamAlias: 'payments' });
    expect(refusalOf(() => callerOf({ sub: 'svc-1' }, { ...settings, enforce_rbac: false, enforce_team_based_model_access: true })).status).toBe(403);
  });
});

describe('an over-long alias', () => {
  const settings = { user_id_jwt_field: 'sub', team_alias_jwt_field: 'ns', org_alias_jwt_field: 'org' };

  it('is refused (401, naming the setting), never cut to a prefix', () => {
    const long = 'a'.repeat(257);
    for (const [claims, setting] of [[{ sub: 'u', ns: long }, 'team_alias_jwt_field'], [{ sub: 'u', org: long }, 'org_alias_jwt_field']] as const) {
      const err = refusalOf(() => callerOf(claims, settings));
      expect(err.status).toBe(401);
      expect(err.type).toBe('auth_error');
      expect(err.message).toContain(setting);
      expect(err.message).not.toContain(long);
    }
    expect(jwtSubject(callerOf({ sub: 'u', ns: 'a'.repeat(256) }, settings).token)?.teamAlias).toBe('a'.repeat(256));
  });
});

describe('the alias and team_id_default', () => {
  const settings = { user_id_jwt_field: 'sub', team_alias_jwt_field: 'ns', team_id_default: 'everyone', team_ids_jwt_field: 'groups' };
  const subject = (claims: Record<string, unknown>) => jwtSubject(callerOf(claims, settings).token);

  it('takes the alias over the default when the token lists no teams', () => {
    expect(subject({ sub: 'u', ns: 'payments' })).toMatchObject({ teamId: null, teamAlias: 'payments' });
    expect(subject({ sub: 'u', ns: 'payments', groups: [] })).toMatchObject({ teamId: null, teamAlias: 'payments' });
  });

  it('keeps the default over the alias when the token lists teams, as LiteLLM\'s get_team_id', () => {
    const named = subject({ sub: 'u', ns: 'payments', groups: ['team-b'] });
    expect(named).toMatchObject({ teamId: 'everyone' });
    expect(named?.teamAlias).toBeUndefined();
  });
});

describe('the `\\.` escape in every claim setting', () => {
  const claims = { 'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'svc-a' } }, iss: 'https://issuer.example' };

  it('reads a dot within a claim name (jwt-claims.ts)', () => {
    expect(claimAt(claims, 'kubernetes\\.io.namespace')).toBe('payments');
    expect(claimAt(claims, 'kubernetes.io.namespace')).toBeUndefined();
  });

  it('in an issuers entry\'s claim fields (jwt-issuers.ts)', () => {
    const view = issuerView(claims, { issuer: 'https://issuer.example', team_id_jwt_field: 'kubernetes\\.io.namespace' } as never, {});
    expect(view.settings.team_id_jwt_field).toBeDefined();
    expect(claimAt(view.claims, view.settings.team_id_jwt_field)).toBe('payments');
  });

  it('in the JWT → key mapping\'s claim (jwt-key-mapping.ts)', () => {
    expect(clientOf(claims, 'kubernetes\\.io.serviceaccount.name')).toMatchObject({ value: 'svc-a' });
  });
});
