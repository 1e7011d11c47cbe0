import type { EntityKind } from './entity-kind.ts';
import type { Counters } from './counters.ts';
import type { LeaseGrant } from './leases.ts';
import type { EntityPolicy } from './policy.ts';
import type { Refusal } from './refusals.ts';

/** What the gateway learns about an admitted entity. */
export interface EntityView {
  kind: EntityKind;
  id: string;
  exists: boolean;
  blocked: boolean;
  /** Epoch ms (keys). */
  expires: number | null;
  alias: string | null;
  models: string[];
  teamId: string | null;
  organizationId: string | null;
  userId: string | null;
  keyName: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  allowedCacheControls: string[];
  allowedRoutes: string[];
  modelAliases: Record<string, string>;
  memberBudgets: boolean;
  /** `max_parallel_requests` (null: none), for web search interception's rounds of searches (websearch/intercept.ts). */
  maxParallel?: number | null;
  /** End users: the region their calls must stay in (LiteLLM's `allowed_model_region`). */
  allowedModelRegion?: string;
  /** A JWT's key: why its calls are refused (policy.ts `refusal`). */
  refusal?: Refusal;
  spend: number;
  maxBudget: number | null;
  /** `soft_budget` (null: none): past it the metrics shard alerts (telemetry/metrics/shard-budgets.ts); never refuses a call. */
  softBudget?: number | null;
  /** Remaining requests/tokens this minute and the limits, when the entity has them. */
  remaining: { requests?: number; tokens?: number; limitRequests?: number; limitTokens?: number };
}

export type AdmitResult =
  | { ok: true; view: EntityView; lease?: LeaseGrant }
  | { ok: false; refusal: Refusal; view?: EntityView }
  | { ok: 'redirect'; token: string; until: number };

export function entityView(p: EntityPolicy, c: Counters): EntityView {
  const remaining: EntityView['remaining'] = {};
  if (p.rpmLimit !== null) {
    remaining.limitRequests = p.rpmLimit;
    remaining.requests = Math.max(0, Math.floor(c.requests?.level ?? p.rpmLimit));
  }
  if (p.tpmLimit !== null) {
    remaining.limitTokens = p.tpmLimit;
    remaining.tokens = Math.max(0, Math.floor(c.tokens?.level ?? p.tpmLimit));
  }
  const view: EntityView = {
    kind: p.kind, id: p.id, exists: p.exists, blocked: p.blocked, expires: p.expires, alias: p.alias, models: p.models, teamId: p.teamId,
    organizationId: p.organizationId, userId: p.userId, keyName: p.keyName, metadata: p.metadata, tags: p.tags, allowedCacheControls: p.allowedCacheControls ?? [], allowedRoutes: p.allowedRoutes ?? [], modelAliases: p.modelAliases ?? {}, memberBudgets: p.memberBudgets ?? false,
    spend: c.windowSpend, maxBudget: p.maxBudget, softBudget: p.softBudget ?? null, maxParallel: p.maxParallel, remaining,
  };
  if (p.allowedModelRegion) view.allowedModelRegion = p.allowedModelRegion;
  if (p.refusal) view.refusal = p.refusal;
  return view;
}
