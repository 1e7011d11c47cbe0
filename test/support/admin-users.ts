import { ADMIN_CONFIG } from './admin.ts';
import { exec } from './pg-client.ts';
import { startTestStack, type TestStack } from './stack.ts';

// Shared by the /user/* suites (admin-users-create-update, admin-users-list-delete): one stack on
// ADMIN_CONFIG with two teams, an organization and two admin users, and the users the read suite lists.

/** The keys of a LiteLLM_UserTable row as /user/new, /user/info and /user/list answer it. */
export const USER_FIELDS = [
  'allowed_cache_controls', 'budget_duration', 'budget_reset_at', 'created_at', 'max_budget', 'max_parallel_requests', 'metadata', 'model_max_budget',
  'model_spend', 'models', 'organization_id', 'rpm_limit', 'spend', 'sso_user_id', 'team_id', 'teams', 'tpm_limit', 'updated_at', 'user_alias',
  'user_email', 'user_id', 'user_role',
];

/** A stack with teams team-u and team-v, organization org-u, and users root (proxy_admin) and viewer (proxy_admin_viewer). */
export async function startAdminUsersStack(): Promise<TestStack> {
  const stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await exec(stack.databaseUrl, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('team-u', 'U'), ('team-v', 'V')`);
  await exec(stack.databaseUrl, `INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-u', 'Org U')`);
  await exec(stack.databaseUrl, `INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('viewer', 'proxy_admin_viewer')`);
  return stack;
}

/**
 * The users the read and delete tests expect, made through /user/new as the create and update tests make them:
 * u-1 (u1@example.com, max_budget 25, in team-u and team-v, with one key of no team) and u-upd (upd@example.com, no key).
 */
export async function seedListedUsers(ok: (path: string, body?: unknown) => Promise<unknown>): Promise<void> {
  await ok('/user/new', { user_id: 'u-1', user_email: 'u1@example.com', max_budget: 25, teams: ['team-u', 'team-v'] });
  await ok('/user/new', { user_id: 'u-upd', user_email: 'upd@example.com', auto_create_key: false });
}
