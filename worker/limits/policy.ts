import type { Pool } from '@neondatabase/serverless';
import { type BudgetLimit, parseBudgetLimits } from './budget-limits.ts';
import type { EntityKind } from './entity-kind.ts';
import type { Refusal } from './refusals.ts';

/** A per-model budget as LiteLLM writes it in `model_max_budget`. */
export interface ModelBudget {
  budget_limit: number;
  time_period: string;
}

/**
 * One limited entity's policy, as its Durable Object holds it: the union of
 * what keys, teams, users, organizations and end users can carry. Loaded from
 * Postgres when the object starts and whenever the admin API changes it.
 */
export interface EntityPolicy {
  kind: EntityKind;
  id: string;
  exists: boolean;
  alias: string | null;
  blocked: boolean;
  /** Epoch ms; keys only. */
  expires: number | null;
  /** Allowed model groups; [] means all. */
  models: string[];
  maxBudget: number | null;
  softBudget: number | null;
  budgetDuration: string | null;
  /** Epoch ms of the current window's end, as Postgres has it. */
  budgetResetAt: number | null;
  /** Spend in the current window, as Postgres has it. */
  spend: number;
  rpmLimit: number | null;
  tpmLimit: number | null;
  maxParallel: number | null;
  modelRpm: Record<string, number>;
  modelTpm: Record<string, number>;
  modelMaxBudget: Record<string, ModelBudget>;
  metadata: Record<string, unknown>;
  tags: string[];
  /** Keys: which `cache` controls a request may use ([] = any). */
  allowedCacheControls: string[];
  /** Keys: the routes (or LiteLLM route groups) the key may call ([] = any); absent in policies stored before it. */
  allowedRoutes?: string[];
  /** Keys: `temp_budget_increase` until `temp_budget_expiry` (ms epoch), added to `maxBudget` while it lasts. */
  tempBudget?: { increase: number; until: number } | null;
  /** Teams: whether any member has a budget of its own in the team (so its keys' members are asked too). */
  memberBudgets?: boolean;
  /** Keys' `aliases`, teams' `model_aliases`: model names that stand for a model group; absent in policies stored before them. */
  modelAliases?: Record<string, string>;
  /** Keys and teams: LiteLLM's `budget_limits`, budgets over windows of their own (budget-limits.ts); absent in policies stored before them. */
  budgetLimits?: BudgetLimit[];
  /** End users (customers): the region (`eu`, `us`) their calls must stay in; absent in policies stored before it. */
  allowedModelRegion?: string | null;
  /** Keys: the entities whose limits also apply. */
  teamId: string | null;
  organizationId: string | null;
  userId: string | null;
  keyName: string | null;
  /** A rotated key still inside its grace period: the hash of the key that replaced it, and until when. */
  redirect: { token: string; until: number } | null;
  /** Keys a JWT's subject is admitted as (jwt-policy.ts): why its calls are refused (its team or user does not exist). */
  refusal?: Refusal;
}

export function missingPolicy(kind: EntityKind, id: string): EntityPolicy {
  return {
    kind, id, exists: false, alias: null, blocked: false, expires: null, models: [], maxBudget: null, softBudget: null,
    budgetDuration: null, budgetResetAt: null, spend: 0, rpmLimit: null, tpmLimit: null, maxParallel: null,
    modelRpm: {}, modelTpm: {}, modelMaxBudget: {}, metadata: {}, tags: [], allowedCacheControls: [], allowedRoutes: [], teamId: null, organizationId: null,
    userId: null, keyName: null, redirect: null,
  };
}

type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const ms = (v: unknown): number | null => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) || null : null);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const obj = <T>(v: unknown): Record<string, T> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, T> : {});

/** Row columns shared by every kind, with a linked budget row filling limits the entity leaves unset. */
function fromRow(kind: EntityKind, id: string, row: Row, budget: Row | undefined, spendColumn = 'spend'): EntityPolicy {
  const pick = (column: string) => row[column] ?? budget?.[column];
  return {
    ...missingPolicy(kind, id),
    exists: true,
    blocked: row.blocked === true,
    models: list(row.models).length ? list(row.models) : list(budget?.allowed_models),
    maxBudget: num(pick('max_budget')),
    softBudget: num(pick('soft_budget')),
    budgetDuration: str(pick('budget_duration')),
    budgetResetAt: ms(pick('budget_reset_at')),
    spend: num(row[spendColumn]) ?? 0,
    rpmLimit: num(pick('rpm_limit')),
    tpmLimit: num(pick('tpm_limit')),
    maxParallel: num(pick('max_parallel_requests')),
    modelRpm: obj<number>(row.model_rpm_limit),
    modelTpm: obj<number>(row.model_tpm_limit),
    modelMaxBudget: obj<ModelBudget>(pick('model_max_budget')),
    metadata: obj<unknown>(row.metadata),
    modelAliases: stringsOnly(obj<unknown>(kind === 'team' ? row.model_aliases : row.aliases)),
  };
}

/** A key's temporary budget increase (stored in its metadata by /key/update, as LiteLLM stores it). */
function tempBudgetOf(metadata: Record<string, unknown>): EntityPolicy['tempBudget'] {
  const increase = num(metadata.temp_budget_increase);
  const until = typeof metadata.temp_budget_expiry === 'string' ? Date.parse(metadata.temp_budget_expiry) : Number.NaN;
  return increase !== null && increase > 0 && Number.isFinite(until) ? { increase, until } : null;
}

/** The budget an entity is held to at `t`: `max_budget`, plus a key's temporary increase until it expires (LiteLLM's rule). */
export function budgetCap(policy: Pick<EntityPolicy, 'maxBudget' | 'tempBudget'>, t: number): number | null {
  if (policy.maxBudget === null) return null;
  const temp = policy.tempBudget;
  return temp && temp.until > t ? policy.maxBudget + temp.increase : policy.maxBudget;
}

const stringsOnly = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));

async function one(pool: Pool, sql: string, params: unknown[]): Promise<Row | undefined> {
  const { rows } = await pool.query<Row>(sql, params);
  return rows[0];
}

async function budgetRow(pool: Pool, budgetId: unknown): Promise<Row | undefined> {
  return typeof budgetId === 'string' ? one(pool, 'SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id = $1', [budgetId]) : undefined;
}

/** Reads an entity's policy from Postgres (LiteLLM's tables). */
export async function loadPolicy(pool: Pool, kind: EntityKind, id: string, now: number, timeZone = 'UTC'): Promise<EntityPolicy> {
  switch (kind) {
    case 'key': {
      const row = await one(pool, 'SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [id]);
      if (!row) {
        const old = await one(pool, 'SELECT active_token_id, revoke_at FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1', [id]);
        const until = ms(old?.revoke_at);
        if (old && until && until > now) return { ...missingPolicy(kind, id), redirect: { token: String(old.active_token_id), until } };
        return missingPolicy(kind, id);
      }
      return {
        ...fromRow(kind, id, row, await budgetRow(pool, row.budget_id)),
        alias: str(row.key_alias),
        expires: ms(row.expires),
        tags: list(row.tags),
        allowedCacheControls: list(row.allowed_cache_controls),
        allowedRoutes: list(row.allowed_routes),
        tempBudget: tempBudgetOf(obj<unknown>(row.metadata)),
        teamId: str(row.team_id),
        organizationId: str(row.organization_id),
        userId: str(row.user_id),
        keyName: str(row.key_name),
        budgetLimits: parseBudgetLimits(row.budget_limits, now, timeZone),
      };
    }
    case 'team': {
      const row = await one(pool, 'SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = $1', [id]);
      if (!row) return missingPolicy(kind, id);
      const members = await one(pool, 'SELECT EXISTS (SELECT 1 FROM "LiteLLM_TeamMembership" WHERE team_id = $1 AND budget_id IS NOT NULL) AS any', [id]);
      return {
        ...fromRow(kind, id, row, await budgetRow(pool, row.budget_id), 'team_spend'), alias: str(row.team_alias), organizationId: str(row.organization_id),
        memberBudgets: members?.any === true,
        budgetLimits: parseBudgetLimits(row.budget_limits, now, timeZone),
      };
    }
    case 'team_member': {
      // `max_budget_in_team`: the membership's budget row (its max_budget, duration, tpm/rpm).
      const row = await one(pool, 'SELECT * FROM "LiteLLM_TeamMembership" WHERE user_id || \':\' || team_id = $1', [id]);
      const budget = row ? await budgetRow(pool, row.budget_id) : undefined;
      if (!row || !budget) return missingPolicy(kind, id);
      // LiteLLM's words for it: "Budget has been exceeded! User=<user> in Team=<team> ...".
      return { ...fromRow(kind, id, { ...row, models: [] }, budget), alias: `${String(row.user_id)} in Team=${String(row.team_id)}` };
    }
    case 'user': {
      const row = await one(pool, 'SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1', [id]);
      return row ? { ...fromRow(kind, id, row, undefined), alias: str(row.user_alias) } : missingPolicy(kind, id);
    }
    case 'org': {
      const row = await one(pool, 'SELECT * FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1', [id]);
      return row ? { ...fromRow(kind, id, row, await budgetRow(pool, row.budget_id)), alias: str(row.organization_alias) } : missingPolicy(kind, id);
    }
    case 'end_user': {
      const row = await one(pool, 'SELECT * FROM "LiteLLM_EndUserTable" WHERE user_id = $1', [id]);
      return row ? { ...fromRow(kind, id, row, await budgetRow(pool, row.budget_id)), alias: str(row.alias), allowedModelRegion: str(row.allowed_model_region) } : missingPolicy(kind, id);
    }
    case 'global':
    case 'agent':
      // Their policies come from the config and other tables (read-policy.ts).
      return missingPolicy(kind, id);
  }
}
