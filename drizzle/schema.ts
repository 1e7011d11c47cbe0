/**
 * Tollgate's Postgres schema. Table and column names follow LiteLLM's
 * schema.prisma (quoted "LiteLLM_*" tables, its snake_case / camelCase columns),
 * so LiteLLM dashboards and SQL keep working. Deviations are noted where the
 * columns are declared (notably LiteLLM_TeamTable.team_created_at / team_spend).
 *
 * The migration in drizzle/migrations is generated from this with
 * `npx drizzle-kit generate` (see drizzle.config.ts).
 */
export type { BudgetLimit, Json } from './schema/columns.ts';
export * from './schema/budgets.ts';
export * from './schema/keys.ts';
export * from './schema/teams.ts';
export * from './schema/principals.ts';
export * from './schema/spendLogs.ts';
export * from './schema/daily.ts';
export * from './schema/admin.ts';
export * from './schema/invitations.ts';
export * from './schema/agents.ts';
export * from './schema/jwt-key-mappings.ts';
export * from './schema/prompts.ts';
