import { msUntil, refill } from './buckets.ts';
import { limitRefusal } from './budget-limits.ts';
import type { AdmitRequest, Counters } from './counters.ts';
import { budgetCap, type EntityPolicy } from './policy.ts';
import { budgetExceeded, KIND_LABEL, modelBudgetExceeded, rateLimited, type Refusal, routerBudgetExceeded } from './refusals.ts';

/**
 * Why the entity refuses this request, or undefined to admit it: blocked or
 * expired, budget and model budget (counting what is reserved), parallel
 * requests, RPM/TPM buckets, per-model RPM/TPM. Buckets it checks are
 * refilled to `t` in `c`; nothing is taken from them here (see reserve()).
 */
export function checkAdmission(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): Refusal | undefined {
  const label = policy.kind === 'key' ? policy.alias ?? policy.keyName ?? policy.id : policy.kind === 'team_member' ? policy.alias ?? policy.id : policy.id;
  if (policy.refusal) return policy.refusal;
  if (!policy.exists && policy.kind === 'key') {
    return { status: 401, type: 'token_not_found_in_db', param: 'key', message: 'Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`' };
  }
  if (policy.blocked) {
    const what = policy.kind === 'key' ? 'Key is blocked. Update via `/key/unblock` if you\'re admin.' : `${KIND_LABEL[policy.kind]}=${policy.id} is blocked.`;
    return { status: 403, type: 'auth_error', param: policy.kind, message: `Authentication Error - ${what}` };
  }
  if (policy.expires !== null && policy.expires < t) {
    return { status: 401, type: 'expired_key', param: 'key', message: `Authentication Error - Expired Key. Key Expiry time ${new Date(policy.expires).toISOString()} and current time ${new Date(t).toISOString()}` };
  }
  const reserved = Object.values(c.reservations);
  const requestsInFlight = reserved.filter((r) => r.requests === undefined).length;
  const cap = req.free ? null : budgetCap(policy, t);
  // What admitted requests (and leases) hold against every budget of the entity.
  const held = cap !== null || policy.budgetLimits?.length ? reserved.reduce((sum, r) => sum + r.cost, 0) : 0;
  if (cap !== null) {
    // Admit while the budget has room for this request's estimate; with nothing in flight, admit while any budget is left.
    // Never once the spend has reached it (LiteLLM's `spend >= max_budget`): a budget of 0 admits nothing, free calls included.
    const fits = c.windowSpend < cap && (c.windowSpend + held + req.estCost <= cap || reserved.length === 0);
    if (!fits) {
      return policy.kind === 'global' && policy.id !== 'proxy'
        ? routerBudgetExceeded(policy.id, policy.alias ?? policy.id, c.windowSpend, cap, c.windowResetAt)
        : budgetExceeded(policy.kind, label, c.windowSpend, cap, c.windowResetAt);
    }
  }
  if (policy.budgetLimits?.length) {
    const refused = limitRefusal(policy, c, req, held, reserved.length > 0, label);
    if (refused) return refused;
  }
  const modelBudget = req.free ? undefined : policy.modelMaxBudget[req.model];
  if (modelBudget) {
    const spent = c.modelSpend[req.model]?.spend ?? 0;
    const held = reserved.filter((r) => r.model === req.model).reduce((sum, r) => sum + r.cost, 0);
    const anyInFlight = reserved.some((r) => r.model === req.model);
    if (!(spent < modelBudget.budget_limit && (spent + held + req.estCost <= modelBudget.budget_limit || !anyInFlight))) {
      return modelBudgetExceeded(policy.kind, policy.id, policy.alias, req.model, c.modelSpend[req.model]?.resetAt ?? null);
    }
  }
  const descriptor = policy.kind === 'key' ? 'api_key' : policy.kind;
  if (policy.maxParallel !== null && requestsInFlight >= policy.maxParallel) {
    return rateLimited(descriptor, policy.id, 'max_parallel_requests', policy.maxParallel, 1000, t);
  }
  if (policy.rpmLimit !== null) {
    c.requests = refill(c.requests, policy.rpmLimit, t);
    if (c.requests.level < 1) return rateLimited(descriptor, policy.id, 'requests', policy.rpmLimit, msUntil(c.requests, policy.rpmLimit, 1), t);
  }
  if (policy.tpmLimit !== null) {
    c.tokens = refill(c.tokens, policy.tpmLimit, t);
    if (c.tokens.level <= 0) return rateLimited(descriptor, policy.id, 'tokens', policy.tpmLimit, msUntil(c.tokens, policy.tpmLimit, 1), t);
  }
  const modelRpm = policy.modelRpm[req.model];
  if (modelRpm) {
    const b = (c.modelRequests[req.model] = refill(c.modelRequests[req.model], modelRpm, t));
    if (b.level < 1) return rateLimited('model_per_key', `${policy.id}:${req.model}`, 'requests', modelRpm, msUntil(b, modelRpm, 1), t);
  }
  const modelTpm = policy.modelTpm[req.model];
  if (modelTpm) {
    const b = (c.modelTokens[req.model] = refill(c.modelTokens[req.model], modelTpm, t));
    if (b.level <= 0) return rateLimited('model_per_key', `${policy.id}:${req.model}`, 'tokens', modelTpm, msUntil(b, modelTpm, 1), t);
  }
  return undefined;
}
