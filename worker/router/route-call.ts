import { deploymentPrice } from '../cost/deployment-cost.ts';
import { recordFallback } from '../telemetry/metrics/hooks.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { type FallbackReason, fallbacksFor, maxFallbacks } from './fallbacks.ts';
import { countCall, countsDeploymentUsage, currentHealth, groupHealth, reportOutcome, trackInFlight } from './health.ts';
import { resolveGroup } from './resolve-group.ts';
import { allowedFailsFor, backoffMs, isContextWindowError, isRequestError, retriesFor } from './retry-policy.ts';
import { choose, type RoutingStrategy, underDeploymentLimits } from './strategies.ts';
import { encryptedAffinityOn, itemPinner, pinnedDeployment, pinServed } from './affinity.ts';
import { originState, originUnavailable } from './encrypted-affinity.ts';
import { eligibleDeployments } from './eligible-deployments.ts';
import type { BudgetRefusal } from '../limits/budget-hold.ts';
import { claimDeployment } from './claim-deployment.ts';
import { attemptTimeoutMs, type RouteInput, type Routed } from './route-input.ts';
import { atParallelLimit, countsAgainst, crossedBudget, noDeployments, withAttempts } from './route-errors.ts';


/** The most input a deployment takes, when known (`model_info.max_input_tokens`, else the price table). */
function contextWindow(d: DeploymentRef): number | undefined {
  return d.info.max_input_tokens ?? deploymentPrice(d)?.maxInputTokens;
}

/**
 * Serves a request from its model group, as LiteLLM's router does: skips
 * deployments in cooldown (shared by every isolate), picks one by the
 * routing strategy, retries with backoff (preferring deployments not tried
 * yet, honouring `retry-after`), bounds each attempt by its timeout (a wedged
 * provider is cut off, not waited on), and falls back to other groups
 * (chained, up to `max_fallbacks`): `context_window_fallbacks` before
 * calling a deployment whose context a prompt cannot fit,
 * `content_policy_fallbacks` on a content-policy refusal, else `fallbacks`.
 * A stream falls back only before its first byte: once an answer is
 * returned, routing is over.
 */
export async function routeCall(input: RouteInput): Promise<Routed> {
  const { state, env, ctx } = input;
  const config = state.config;
  const strategy = (config.router_settings.routing_strategy ?? 'simple-shuffle') as RoutingStrategy;
  // Deployments' own rpm/tpm: a routing weight for usage-based strategies, a hard limit with enforce_model_rate_limits.
  const limitsDeployments = countsDeploymentUsage(config);
  const queue: { group: string; reason: FallbackReason }[] = [{ group: input.requested, reason: 'error' }];
  const visited = new Set<string>();
  // Attempts after a group's first (x-litellm-attempted-retries); groups tried after the first are the fallbacks.
  let retries = 0;
  let groupsTried = 0;
  let lastError: GatewayError | undefined;
  let soonestRetry: number | undefined;
  /** Why deployments were passed over for their spent budgets (budget routing), in LiteLLM's words. */
  const crossed: BudgetRefusal[] = [];
  /** The deployment that made encrypted content the call replays, once known: no group without it may serve the call. */
  let origin: string | undefined;
  const holdsOrigin = (target: string) => origin === undefined || resolveGroup(config, input.catalog, target).deployments.some((d) => d.id === origin);
  const fallBack = (group: string, reason: FallbackReason) => {
    const next = fallbacksFor(config, group, reason, group === input.requested ? input.clientFallbacks : undefined);
    for (const target of next) if (!visited.has(target) && holdsOrigin(target)) queue.push({ group: target, reason });
  };

  while (queue.length && groupsTried <= maxFallbacks(config)) {
    const { group: requested } = queue.shift() as { group: string; reason: FallbackReason };
    if (visited.has(requested)) continue;
    visited.add(requested);
    const { group, deployments } = resolveGroup(config, input.catalog, requested);
    if (!deployments.length) {
      lastError ??= new GatewayError(`Invalid model name passed in model=${requested}. Call \`/v1/models\` to view available models for your key.`, { status: 400, type: 'bad_request_error', param: 'model' });
      continue;
    }
    groupsTried++;
    const eligible = eligibleDeployments(deployments, input, config.router_settings, requested, group);
    if (eligible instanceof GatewayError) {
      // A fallback group no deployment of which may serve the call does not hide the error that sent it there.
      lastError ??= eligible;
      fallBack(requested, 'error');
      continue;
    }
    const fitting = eligible.filter((d) => {
      const window = contextWindow(d);
      return window === undefined || input.promptTokens <= window;
    });
    if (!fitting.length) {
      lastError = new GatewayError(`Context window exceeded: the prompt (about ${input.promptTokens} tokens) does not fit model group ${group}`, {
        status: 400, type: 'context_window_exceeded', param: 'messages',
      });
      fallBack(requested, 'context_window');
      continue;
    }
    // A group of mixed providers serves an endpoint only some of them speak through those.
    const serving = input.refusal ? fitting.filter((d) => !input.refusal!(d)) : fitting;
    if (!serving.length) {
      // A fallback group that cannot serve it does not hide the error that sent the request there.
      lastError ??= input.refusal?.(fitting[0]!);
      fallBack(requested, 'error');
      continue;
    }
    const health = await groupHealth(env, ctx, config, group);
    const now = Date.now();
    // As in LiteLLM, a group's only deployment is not cooled down unless there is somewhere to fall back to:
    // cooling it would only turn every request into a 429.
    const coolable = eligible.length > 1 || fallbacksFor(config, requested, 'error', requested === input.requested ? input.clientFallbacks : undefined).length > 0;
    let available = coolable ? serving.filter((d) => !(health.cooldowns[d.id]! > now)) : serving;
    if (limitsDeployments) available = underDeploymentLimits(available, health, now);
    // encrypted_content_affinity: answers are read for their items, and replayed ones looked up, only where it is on.
    const pinsItems = input.affinity?.encrypted !== undefined && serving.length > 1 && encryptedAffinityOn(config, group);
    const replays = pinsItems && input.affinity!.encrypted!.replayed().length > 0;
    if (!available.length) {
      // A replay whose origin is among those out of reach waits for it: a fallback group cannot decrypt it.
      const held = replays ? await pinnedDeployment(env, config, group, input.affinity!) : undefined;
      if (held?.strict) throw withAttempts(originUnavailable(requested, group, originState(serving, health, held.id!, coolable, now), now), retries, groupsTried - 1);
      const until = Math.min(...serving.map((d) => health.cooldowns[d.id] ?? now + 60_000));
      soonestRetry = Math.min(soonestRetry ?? until, until);
      lastError = noDeployments(requested, group, until, now);
      fallBack(requested, 'error');
      continue;
    }
    // A session, cached prompt or key pinned to a deployment tries it first (affinity.ts).
    const pinned = input.affinity && serving.length > 1 ? await pinnedDeployment(env, config, group, input.affinity, available.length > 1 || replays) : undefined;
    if (pinned?.strict) origin = pinned.id;
    if (origin !== undefined) {
      // The call replays encrypted content its origin deployment made: no other account can decrypt it (encrypted-affinity.ts).
      const only = available.filter((d) => d.id === origin);
      if (!only.length) throw withAttempts(originUnavailable(requested, group, originState(serving, health, origin, coolable, now), now), retries, groupsTried - 1);
      available = only;
    }
    const tried = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      /** Calls counted against deployments' rpm as they were picked (so a burst cannot all pass one check): those not sent are taken back. */
      const counted: [DeploymentRef, number][] = [];
      const pick = (from: DeploymentRef[]) => {
        let pool = from.filter((d) => !tried.has(d.id));
        if (limitsDeployments) {
          // A pick after a wait (for a slot, a budget) may find every one at its limit meanwhile: it then goes
          // over by that call rather than failing one the check above let in.
          const under = underDeploymentLimits(pool.length ? pool : from, currentHealth(group) ?? health, Date.now());
          if (under.length) pool = under;
        }
        const preferred = pinned?.id !== undefined ? pool.find((d) => d.id === pinned.id) : undefined;
        const chosen = preferred ?? choose(strategy, pool.length ? pool : from, health, input.random, config.router_settings.routing_strategy_args) as DeploymentRef;
        if (limitsDeployments) {
          const at = Date.now();
          countCall(group, chosen.id, at);
          counted.push([chosen, at]);
        }
        return chosen;
      };
      const uncount = (sent: DeploymentRef | undefined) => {
        for (const [d, at] of counted) if (d !== sent) countCall(group, d.id, at, -1);
      };
      const timedOut = () => withAttempts(lastError ?? new GatewayError('Request timed out', { status: 408, type: 'timeout_error' }), retries, groupsTried - 1);
      if (input.deadline <= Date.now()) throw timedOut();
      if (limitsDeployments) {
        // Read again before every attempt (its first pick follows with no await between): the calls counted
        // since, this request's own failed attempts included, may have used a deployment's last request.
        const at = Date.now();
        available = underDeploymentLimits(available, currentHealth(group) ?? health, at);
        if (!available.length) {
          lastError = noDeployments(requested, group, at + 60_000, at);
          fallBack(requested, 'error');
          break;
        }
      }
      // A deployment at its max_parallel_requests or whose provider's or own budget is spent is passed over (no attempt counted).
      const claimed = await claimDeployment(input, group, available, pick, crossed);
      uncount(claimed.claim?.deployment);
      available = claimed.available;
      if (!claimed.claim) {
        lastError = claimed.full ? atParallelLimit(requested, group) : crossedBudget(crossed);
        fallBack(requested, 'error');
        break;
      }
      const { deployment, hold, slot } = claimed.claim;
      const letGo = () => {
        if (hold) ctx.waitUntil(hold.release());
        slot?.free();
      };
      // Measured after the claim, which may have waited for a budget's limiter or a slot.
      const msLeft = input.deadline - Date.now();
      if (msLeft <= 0) {
        letGo();
        uncount(undefined);
        throw timedOut();
      }
      if (attempt > 0) retries++;
      const started = Date.now();
      trackInFlight(deployment.id, 1);
      let inFlight = true;
      try {
        const answer = await input.call(deployment, attemptTimeoutMs(state, deployment, input.stream, msLeft, input.overrides), pinsItems ? itemPinner(env, ctx, config, group, deployment.id) : undefined);
        reportOutcome(env, ctx, config, group, { deploymentId: deployment.id, ok: true, latencyMs: Date.now() - started, at: Date.now() });
        if (pinned) pinServed(env, ctx, group, pinned.pins, deployment.id);
        if (groupsTried > 1) {
          recordFallback(env, ctx, { caller: input.caller, requestedModel: input.requested, fallbackModel: group, known: input.catalog.groups, error: lastError, provider: deployment.provider, success: true });
        }
        return { answer, deployment, attemptedRetries: retries, attemptedFallbacks: groupsTried - 1, ...(hold ? { hold } : {}), ...(slot ? { slot } : {}) };
      } catch (caught) {
        letGo();
        const err = caught instanceof GatewayError ? caught : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error', retryable: true });
        lastError = err;
        if (countsAgainst(err)) reportOutcome(env, ctx, config, group, { deploymentId: deployment.id, ok: false, at: Date.now(), allowedFails: allowedFailsFor(config, err) }, { deployment, status: err.status, reason: err.message });
        tried.add(deployment.id);
        if (isRequestError(err)) throw withAttempts(err, retries, groupsTried - 1);
        if (err.type === 'content_policy_violation') {
          fallBack(requested, 'content_policy');
          break;
        }
        if (isContextWindowError(err)) {
          fallBack(requested, 'context_window');
          break;
        }
        if (attempt >= retriesFor(config, err, input.overrides?.numRetries)) {
          fallBack(requested, 'error');
          break;
        }
        trackInFlight(deployment.id, -1);
        inFlight = false;
        // This failure (or another request's) may have cooled a deployment: as LiteLLM re-reads the healthy
        // deployments before a retry, what is left is read again, and with none left the group is done.
        if (coolable) {
          const fresh = await groupHealth(env, ctx, config, group);
          const at = Date.now();
          available = available.filter((d) => !(fresh.cooldowns[d.id]! > at));
          if (!available.length) {
            fallBack(requested, 'error');
            break;
          }
        }
        // As in LiteLLM: a deployment not tried yet is tried at once; the same one again after a backoff.
        if (available.every((d) => tried.has(d.id))) await new Promise((r) => setTimeout(r, backoffMs(attempt, err, config, input.deadline - Date.now(), input.random)));
      } finally {
        if (inFlight) trackInFlight(deployment.id, -1);
      }
    }
  }
  const final = lastError ?? noDeployments(input.requested, input.requested, soonestRetry ?? Date.now() + 60_000, Date.now());
  if (groupsTried > 1) {
    recordFallback(env, ctx, { caller: input.caller, requestedModel: input.requested, fallbackModel: [...visited].at(-1) ?? input.requested, known: input.catalog.groups, error: final, success: false });
  }
  throw withAttempts(final, retries, Math.max(0, groupsTried - 1));
}

