import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { adminClient } from './support/admin.ts';
import { chatAs, JWT_GENERAL, JWT_MODELS, jwt, stack, useJwtStack } from './support/jwt-stack.ts';
import { eventually, seedTeam, spendLogRow } from './support/keys.ts';

/**
 * LiteLLM's `team_alias_jwt_field` / `org_alias_jwt_field` through workerd: a token naming its team (organization)
 * by alias is admitted as the team with that `team_alias` (organization with that `organization_alias`), held to
 * that team's models and billed to it; an alias no one has, or several share, is refused with LiteLLM's words; a
 * team renamed stops answering to its old alias. The team claim is LiteLLM's Kubernetes example: a service account
 * token's `kubernetes.io` claim's `namespace` (`kubernetes\\.io.namespace`, the dot in the name escaped).
 */

useJwtStack(() => `${JWT_MODELS}${JWT_GENERAL}  litellm_jwtauth:
    team_id_jwt_field: client_id
    team_alias_jwt_field: 'kubernetes\\.io.namespace'
    org_alias_jwt_field: org_name
    user_id_jwt_field: sub
    user_id_upsert: true
`);
const { ok: admin } = adminClient(() => stack);
const chat = (token: string, model = 'mock-gpt') => chatAs(stack, token, model);

describe('team_alias_jwt_field', () => {
  it('admits a token as the team with that alias: its models, its spend', async () => {
    await admin('/team/new', { team_id: 'team-payments', team_alias: 'payments', models: ['gpt-x'] });
    const token = jwt({ sub: 'svc-payments', 'kubernetes.io': { namespace: 'payments' } });
    const served = await chat(token, 'gpt-x');
    expect(served.status).toBe(200);
    // The team's model list holds the token: it is that team's.
    expect((await chat(token, 'mock-gpt')).status).toBe(401);
    const row = await eventually(() => spendLogRow(stack.databaseUrl, served.callId ?? ''));
    expect(row).toMatchObject({ team_id: 'team-payments', user: 'svc-payments' });
  });

  it('refuses an alias no team has (404) and one two teams share (400), in LiteLLM\'s words', async () => {
    const unknown = await chat(jwt({ sub: 'svc-nobody', 'kubernetes.io': { namespace: 'no-such-namespace' } }));
    expect(unknown.status).toBe(404);
    expect(unknown.error?.message).toContain('Team with alias \'no-such-namespace\' doesn\'t exist in db. Create team via `/team/new` call.');
    await seedTeam(stack.databaseUrl, { id: 'team-twin-1', alias: 'twins' });
    await seedTeam(stack.databaseUrl, { id: 'team-twin-2', alias: 'twins' });
    const shared = await chat(jwt({ sub: 'svc-twins', 'kubernetes.io': { namespace: 'twins' } }));
    expect(shared.status).toBe(400);
    expect(shared.error?.message).toContain('Multiple teams found with alias \'twins\'');
    // An alias longer than any team's is refused, never cut to a prefix another team may have.
    await seedTeam(stack.databaseUrl, { id: 'team-prefix', alias: 'p'.repeat(256) });
    const long = await chat(jwt({ sub: 'svc-long', 'kubernetes.io': { namespace: 'p'.repeat(300) } }));
    expect(long.status).toBe(401);
    expect(long.error?.message).toContain('team_alias_jwt_field');
  });

  it('takes the team id claim over the alias', async () => {
    await admin('/team/new', { team_id: 'team-by-id', team_alias: 'by-id', models: ['mock-gpt'] });
    const token = jwt({ sub: 'svc-both', client_id: 'team-by-id', 'kubernetes.io': { namespace: 'payments' } });
    expect((await chat(token, 'mock-gpt')).status).toBe(200);
    expect((await chat(token, 'gpt-x')).status).toBe(401);
  });

  it('stops admitting the old alias once the team is renamed, and admits the new one', async () => {
    await admin('/team/new', { team_id: 'team-renamed', team_alias: 'old-name', models: ['mock-gpt'] });
    const old = jwt({ sub: 'svc-rename', 'kubernetes.io': { namespace: 'old-name' } });
    expect((await chat(old)).status).toBe(200);
    await admin('/team/update', { team_id: 'team-renamed', team_alias: 'new-name' });
    // From its next call on, as the README promises: the first call after the rename is refused.
    const refused = await chat(old);
    expect(refused.status).toBe(404);
    expect(refused.error?.message).toContain('Team with alias \'old-name\' doesn\'t exist in db.');
    expect((await chat(jwt({ sub: 'svc-rename', 'kubernetes.io': { namespace: 'new-name' } }))).status).toBe(200);
  });
});

describe('org_alias_jwt_field', () => {
  it('admits a token as the organization with that alias, refuses an unknown one, and keeps a team in its own organization', async () => {
    await admin('/organization/new', { organization_id: 'org-emea', organization_alias: 'emea', models: [] });
    const served = await chat(jwt({ sub: 'svc-emea', org_name: 'emea' }));
    expect(served.status).toBe(200);
    const row = await eventually(() => spendLogRow(stack.databaseUrl, served.callId ?? ''));
    expect(row).toMatchObject({ organization_id: 'org-emea' });

    const unknown = await chat(jwt({ sub: 'svc-emea', org_name: 'apac' }));
    expect(unknown.status).toBe(404);
    expect(unknown.error?.message).toContain('Organization with alias \'apac\' doesn\'t exist in db. Create organization via `/organization/new` call.');
    // Both unknown: the team's alias is the one refused, as LiteLLM resolves the team first.
    const both = await chat(jwt({ sub: 'svc-emea', 'kubernetes.io': { namespace: 'no-such-team' }, org_name: 'apac' }));
    expect(both.status).toBe(404);
    expect(both.error?.message).toContain('Team with alias \'no-such-team\' doesn\'t exist in db.');

    // A team of no organization may be named with one; a team of another organization may not.
    await admin('/organization/new', { organization_id: 'org-us', organization_alias: 'us', models: [] });
    await admin('/team/new', { team_id: 'team-us', team_alias: 'us-team', organization_id: 'org-us' });
    const crossed = await chat(jwt({ sub: 'svc-emea', 'kubernetes.io': { namespace: 'us-team' }, org_name: 'emea' }));
    expect(crossed.status).toBe(403);
  });
});

describe('config', () => {
  const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});

  it('takes the alias claims without warning of them, and refuses one that is not a claim path', () => {
    const taken = config({ team_alias_jwt_field: 'kubernetes.namespace', org_alias_jwt_field: 'org_name' });
    expect(taken.ok).toBe(true);
    expect(taken.ok ? taken.warnings.join('\n') : '').not.toMatch(/alias_jwt_field/);
    const refused = config({ team_alias_jwt_field: 'a..b', org_alias_jwt_field: 7 });
    expect(refused.ok ? '' : refused.errors.join('\n')).toMatch(/team_alias_jwt_field: expected a claim name or dot path/);
    expect(refused.ok ? '' : refused.errors.join('\n')).toMatch(/org_alias_jwt_field: expected a string/);
  });
});
