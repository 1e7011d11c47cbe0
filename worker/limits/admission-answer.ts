import type { KeyPolicy } from '../auth/key-policy.ts';
import { keyFieldPolicy } from '../auth/key-field-policy.ts';
import { JWT_TOKEN_PREFIX } from '../auth/jwt-identity.ts';
import { teamAliasGone } from './jwt-aliases.ts';
import { missingJwtEntity } from './jwt-policy.ts';
import type { EntityKind } from './entity-kind.ts';
import type { AdmitResult, EntityView } from './entity-limiter.ts';
import type { Target } from './local-leases.ts';
import type { Refusal } from './refusals.ts';

/** What admission answers, from the entities' results: the refusal that wins, the key's policy, the rate-limit headers. */

const ORDER: EntityKind[] = ['key', 'team', 'org', 'user', 'team_member', 'end_user', 'global'];

export function viewOf(results: Map<string, { result: AdmitResult }>, kind: EntityKind, id: string | null): EntityView | undefined {
  if (!id) return undefined;
  const r = results.get(`${kind}:${id}`)?.result;
  return r && r.ok !== 'redirect' ? r.view : undefined;
}

export function firstRefusal(results: Map<string, { target: Target; result: AdmitResult }>): Refusal | undefined {
  const refused = [...results.values()].filter((r) => r.result.ok === false);
  refused.sort((a, b) => ORDER.indexOf(a.target.kind) - ORDER.indexOf(b.target.kind));
  const first = refused[0]?.result;
  return first && first.ok === false ? first.refusal : undefined;
}

export function keyPolicy(token: string, key: EntityView, team: EntityView | undefined, owners: { user?: EntityView; org?: EntityView } = {}): KeyPolicy {
  const policy: KeyPolicy = {
    token,
    keyName: key.keyName,
    keyAlias: key.alias,
    userId: key.userId,
    organizationId: key.organizationId ?? team?.organizationId ?? null,
    models: key.models,
    blocked: key.blocked,
    expires: key.expires === null ? null : new Date(key.expires),
    spend: key.spend,
    maxBudget: key.maxBudget,
    softBudget: key.softBudget ?? null,
    tpmLimit: key.remaining.limitTokens ?? null,
    rpmLimit: key.remaining.limitRequests ?? null,
    metadata: key.metadata,
    tags: key.tags,
    allowedCacheControls: key.allowedCacheControls ?? [],
    allowedRoutes: key.allowedRoutes ?? [],
    aliases: key.modelAliases ?? {},
    userModels: owners.user?.exists ? owners.user.models : [],
    orgModels: owners.org?.exists ? owners.org.models : [],
    team: team?.exists
      ? { id: team.id, alias: team.alias, models: team.models, blocked: team.blocked, organizationId: team.organizationId, metadata: team.metadata, modelAliases: team.modelAliases ?? {} }
      : null,
  };
  Object.assign(policy, keyFieldPolicy(key.metadata));
  if (key.refusal) policy.refusal = key.refusal;
  else if (token.startsWith(JWT_TOKEN_PREFIX)) {
    // A JWT's team (or, with no team, user) deleted since its key's policy was read: refused, never left unrestricted.
    if (key.teamId !== null && team?.exists !== true) policy.refusal = missingJwtEntity('team', key.teamId);
    else if (key.teamId === null && key.userId !== null && owners.user?.exists !== true) policy.refusal = missingJwtEntity('user', key.userId);
    else if (key.teamId !== null && team) {
      const gone = teamAliasGone(token, team);
      if (gone) policy.refusal = gone;
    }
  }
  return policy;
}

/** LiteLLM's `x-ratelimit-*` headers: the key's limits if it has them, else the tightest of the others. */
export function rateLimitHeaders(results: Map<string, { target: Target; result: AdmitResult }>): Record<string, string> {
  const views = [...results.values()]
    .sort((a, b) => ORDER.indexOf(a.target.kind) - ORDER.indexOf(b.target.kind))
    .map((r) => (r.result.ok === true ? r.result.view.remaining : undefined))
    .filter((r): r is EntityView['remaining'] => !!r && (r.limitRequests !== undefined || r.limitTokens !== undefined));
  const first = views[0];
  if (!first) return {};
  const headers: Record<string, string> = {};
  if (first.limitRequests !== undefined) {
    headers['x-ratelimit-limit-requests'] = String(first.limitRequests);
    headers['x-ratelimit-remaining-requests'] = String(first.requests ?? 0);
  }
  if (first.limitTokens !== undefined) {
    headers['x-ratelimit-limit-tokens'] = String(first.limitTokens);
    headers['x-ratelimit-remaining-tokens'] = String(first.tokens ?? 0);
  }
  return headers;
}

export interface AdmissionInput {
  token: string;
  master: boolean;
  requestId: string;
  model: string;
  endUser: string | null;
  estCost: number;
  estTokens: number;
  /** Every deployment of the model is free: budgets do not apply (LiteLLM skips them for zero-cost models); limits do. */
  free?: boolean;
  /** The config sets a proxy-wide budget (general_settings.max_budget): it applies to every request, the master key's too. */
  globalBudget: boolean;
  /** Limiter ids (kind `global`) of the call's tags' budgets (`tag_budget_config`, router-budgets.ts); they apply to the master key's calls too. */
  budgets?: string[];
  /** Keeps the isolate alive until a lease granted to this request has been returned. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface Admission {
  /** The key's policy as its limiter and its team's hold it (null for the master key). */
  policy: KeyPolicy | null;
  /** `x-ratelimit-*` headers of the tightest limit that applied. */
  headers: Record<string, string>;
  /** The end user's `allowed_model_region`: only deployments with that `region_name` may serve the call. */
  modelRegion?: string;
  /** Answered from leases alone: `headers` is then the same object for every request the leases admit. */
  leased: boolean;
  /**
   * After the response: actual cost and tokens into every entity that admitted the request.
   * Undefined when that was all done here, in the isolate's leases, with nothing left to wait for.
   */
  settle(cost: number, tokens: number): Promise<void> | undefined;
  /** The request will not run after all (refused later, e.g. model access): undo the admissions. */
  release(): Promise<void>;
}

/** The key's policy (null for none), the rate-limit headers and the end user's region, from every entity's answer. */
export function policyAndHeaders(token: string | null, results: Map<string, { target: Target; result: AdmitResult }>, endUser: string | null): Pick<Admission, 'policy' | 'headers' | 'modelRegion'> {
  const keyView = viewOf(results, 'key', token);
  const teamView = viewOf(results, 'team', keyView?.teamId ?? null);
  const modelRegion = viewOf(results, 'end_user', endUser)?.allowedModelRegion;
  return {
    ...(modelRegion ? { modelRegion } : {}),
    policy: token && keyView ? keyPolicy(token, keyView, teamView, {
      // A personal key (no team) is held to its user's model list; any key to its organization's.
      user: keyView.teamId ? undefined : viewOf(results, 'user', keyView.userId),
      org: viewOf(results, 'org', keyView.organizationId ?? teamView?.organizationId ?? null),
    }) : null,
    headers: rateLimitHeaders(results),
  };
}
