/** Team request fields → LiteLLM_TeamTable columns. */
import type { NewTeamRow, TeamRow } from '../../../drizzle/schema/teams.ts';
import { type BudgetClock, budgetLimitsColumn } from '../../lib/budget-limits.ts';
import { resetAt } from '../budgets/rows.ts';
import { keptGrant } from '../keys/fields.ts';
import type { NewTeamBody, UpdateTeamBody } from './schemas.ts';

type TeamFields = Omit<UpdateTeamBody, 'team_id'>;

/** Columns a request field maps onto one to one; `null` clears them. */
const NULLABLE = ['team_alias', 'organization_id', 'tpm_limit', 'rpm_limit', 'max_parallel_requests', 'max_budget', 'soft_budget',
  'model_aliases', 'model_rpm_limit', 'model_tpm_limit'] as const;

/** `tags`, `guardrails` and `object_permission` live in `metadata` (LiteLLM keeps the last in a table of its own). */
function withMetadataFields(metadata: Record<string, unknown>, body: Pick<TeamFields, 'tags' | 'guardrails' | 'object_permission'>): Record<string, unknown> {
  const out = { ...metadata };
  for (const field of ['tags', 'guardrails', 'object_permission'] as const) {
    const value = body[field];
    if (value === null) delete out[field];
    else if (value !== undefined) out[field] = value;
  }
  return out;
}

export function newTeamRow(body: NewTeamBody, teamId: string, clock: BudgetClock): NewTeamRow {
  const row: NewTeamRow = {
    team_id: teamId,
    admins: body.admins ?? [],
    members: body.members ?? [],
    metadata: withMetadataFields(body.metadata ?? {}, body),
    models: body.models ?? [],
    blocked: body.blocked ?? false,
    model_max_budget: body.model_max_budget ?? {},
    budget_duration: body.budget_duration ?? null,
    budget_reset_at: resetAt(body.budget_duration, clock.timeZone, clock.now),
    budget_limits: budgetLimitsColumn(body.budget_limits ?? null, null, clock),
  };
  for (const field of NULLABLE) (row as Record<string, unknown>)[field] = body[field] ?? null;
  return row;
}

/** Only the fields the request named; a new `budget_duration` starts a new window, as does a new `budget_limits` window. */
export function teamPatch(body: TeamFields, existing: TeamRow, clock: BudgetClock): Partial<NewTeamRow> {
  const patch: Partial<NewTeamRow> = {};
  for (const field of NULLABLE) if (body[field] !== undefined) (patch as Record<string, unknown>)[field] = body[field];
  if (body.models !== undefined) patch.models = body.models ?? [];
  if (body.blocked !== undefined) patch.blocked = body.blocked ?? false;
  if (body.model_max_budget !== undefined) patch.model_max_budget = body.model_max_budget ?? {};
  if (body.metadata !== undefined || body.tags !== undefined || body.guardrails !== undefined || body.object_permission !== undefined) {
    // A new metadata keeps the team's MCP grant unless it names one itself (LiteLLM keeps object_permission apart).
    const replaced = body.metadata ?? {};
    const base = body.metadata === undefined ? existing.metadata
      : 'object_permission' in replaced ? replaced : { ...keptGrant(existing.metadata), ...replaced };
    patch.metadata = withMetadataFields(base, body);
  }
  if (body.budget_duration !== undefined) {
    patch.budget_duration = body.budget_duration;
    patch.budget_reset_at = resetAt(body.budget_duration, clock.timeZone, clock.now);
  }
  if (body.budget_limits !== undefined) patch.budget_limits = budgetLimitsColumn(body.budget_limits, existing.budget_limits, clock);
  return patch;
}

/** Fields a team admin may not change on their own team: who owns it and whether it may be used. */
export const ADMIN_ONLY_TEAM_FIELDS = ['organization_id', 'blocked'] as const;
