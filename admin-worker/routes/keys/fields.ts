/**
 * From request fields to LiteLLM_VerificationToken columns, shared by
 * generate, update and regenerate. Only fields present in the request are
 * touched; null clears a field (a list or object column back to empty).
 */
import { eq, sql } from 'drizzle-orm';
import { budgets } from '../../../drizzle/schema/budgets.ts';
import { organizations } from '../../../drizzle/schema/principals.ts';
import { type KeyRow, type NewKeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import { durationSeconds, nextBudgetReset } from '../../../worker/limits/windows.ts';
import { budgetLimitsColumn } from '../../lib/budget-limits.ts';
import { badRequest } from '../../lib/validation.ts';
import { loadTeams } from './access.ts';
import { type KeyFieldsInput, METADATA_FIELD_NAMES, type UpdateKeyInput } from './schemas.ts';
import type { Runner, Tx } from './store.ts';

type Fields = Omit<KeyFieldsInput, 'key'> & Partial<Pick<UpdateKeyInput, 'temp_budget_increase' | 'temp_budget_expiry'>>;

/** LiteLLM's key_type presets (`handle_key_type`): which route groups the key may call. */
const KEY_TYPE_ROUTES: Record<string, string[]> = {
  llm_api: ['llm_api_routes'],
  management: ['management_routes'],
  read_only: ['info_routes'],
};

/** LiteLLM's 400s for values that are well-typed but unusable; checked before anything is written. */
export function checkValues(data: Fields): void {
  for (const field of ['max_budget', 'soft_budget', 'temp_budget_increase'] as const) {
    const value = data[field];
    if (typeof value === 'number' && value < 0) throw badRequest(`${field} cannot be negative. Received: ${value}`, field);
  }
  if ((data.temp_budget_increase == null) !== (data.temp_budget_expiry == null)) {
    throw badRequest('temp_budget_increase and temp_budget_expiry must be set together', data.temp_budget_increase == null ? 'temp_budget_increase' : 'temp_budget_expiry');
  }
}

/** The team, organization and budget a key points at must exist (400 otherwise, before any write). */
export async function checkReferences(db: Runner, data: Fields): Promise<void> {
  if (data.team_id) {
    const team = (await loadTeams(db, [data.team_id])).get(data.team_id);
    if (!team) throw badRequest(`Team not found: team_id=${data.team_id}. Create it with /team/new first.`, 'team_id');
  }
  if (data.organization_id) {
    const found = await db.select({ id: organizations.organization_id }).from(organizations).where(eq(organizations.organization_id, data.organization_id)).limit(1);
    if (found.length === 0) throw badRequest(`Organization not found for organization_id=${data.organization_id}`, 'organization_id');
  }
  if (data.budget_id) {
    const found = await db.select({ id: budgets.budget_id }).from(budgets).where(eq(budgets.budget_id, data.budget_id)).limit(1);
    if (found.length === 0) throw badRequest(`Budget not found: budget_id=${data.budget_id}`, 'budget_id');
  }
}

/**
 * key_alias is unique among keys (LiteLLM's `_enforce_unique_key_alias`). The
 * advisory lock serialises two concurrent requests for the same alias.
 */
export async function checkAliasFree(tx: Tx, alias: string | null | undefined, ownToken: string | null): Promise<void> {
  if (!alias) return;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`LiteLLM_VerificationToken.key_alias:${alias}`}))`);
  const rows = await tx.select({ token: verificationTokens.token }).from(verificationTokens).where(eq(verificationTokens.key_alias, alias)).limit(2);
  if (rows.some((r) => r.token !== ownToken)) throw badRequest(`Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`, 'key_alias');
}

const present = <K extends keyof Fields>(data: Fields, field: K): boolean => Object.hasOwn(data, field) && data[field] !== undefined;

/**
 * The columns a request sets. `existing` is the row being changed (undefined
 * when creating): metadata is merged into its metadata, as LiteLLM merges.
 */
export function keyColumns(data: Fields, options: { existing?: KeyRow; now: Date; timeZone: string }): Partial<NewKeyRow> {
  const { now } = options;
  const out: Partial<NewKeyRow> = {};
  const copy = ['key_alias', 'max_budget', 'soft_budget', 'user_id', 'team_id', 'organization_id', 'budget_id', 'max_parallel_requests',
    'tpm_limit', 'rpm_limit', 'model_rpm_limit', 'model_tpm_limit', 'permissions'] as const;
  for (const field of copy) if (present(data, field)) (out as Record<string, unknown>)[field] = data[field] ?? null;
  const lists = ['models', 'tags', 'allowed_cache_controls', 'allowed_routes'] as const;
  for (const field of lists) if (present(data, field)) out[field] = data[field] ?? [];
  const objects = ['aliases', 'config', 'model_max_budget'] as const;
  for (const field of objects) if (present(data, field)) out[field] = data[field] ?? {};
  if (present(data, 'spend')) out.spend = data.spend ?? 0;
  if (present(data, 'blocked')) out.blocked = data.blocked ?? false;
  if (present(data, 'key_type') && data.key_type && !present(data, 'allowed_routes')) {
    out.allowed_routes = KEY_TYPE_ROUTES[data.key_type] ?? [];
  }
  if (present(data, 'duration')) {
    const seconds = data.duration ? durationSeconds(data.duration) : undefined;
    out.expires = seconds === undefined ? null : new Date(now.getTime() + seconds * 1000);
  }
  if (present(data, 'budget_duration')) {
    out.budget_duration = data.budget_duration ?? null;
    out.budget_reset_at = data.budget_duration ? nextBudgetReset(data.budget_duration, now, options.timeZone) ?? null : null;
  }
  if (present(data, 'budget_limits')) {
    out.budget_limits = budgetLimitsColumn(data.budget_limits ?? null, options.existing?.budget_limits, options);
  }
  const metadata = metadataColumn(data, options.existing?.metadata);
  if (metadata) out.metadata = metadata;
  return out;
}

/** The new metadata, or undefined when the request touches neither it nor a field kept in it. */
function metadataColumn(data: Fields, existing: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const stashed = [...METADATA_FIELD_NAMES, 'temp_budget_increase', 'temp_budget_expiry'] as const;
  const touched = stashed.filter((f) => present(data, f));
  if (!present(data, 'metadata') && touched.length === 0) return undefined;
  let metadata: Record<string, unknown> = { ...(existing ?? {}) };
  // `metadata: null` clears it, but for the key's object_permission, which only the field itself changes (as LiteLLM keeps it apart).
  if (present(data, 'metadata')) metadata = data.metadata === null ? keptGrant(existing) : { ...metadata, ...data.metadata };
  for (const field of touched) {
    const value = data[field];
    if (value === null) delete metadata[field];
    else metadata[field] = value;
  }
  return metadata;
}

/** The part of old metadata a metadata replacement keeps: the MCP grant (`object_permission`). */
export function keptGrant(existing: Record<string, unknown> | undefined | null): Record<string, unknown> {
  return existing?.object_permission !== undefined ? { object_permission: existing.object_permission } : {};
}

/** Request fields without a column, for echoing back in GenerateKeyResponse. */
export function requestOnlyFields(data: Fields): Record<string, unknown> {
  const out: Record<string, unknown> = { duration: data.duration ?? null, key_type: data.key_type ?? 'default' };
  for (const field of METADATA_FIELD_NAMES) if (present(data, field)) out[field] = data[field];
  return out;
}
