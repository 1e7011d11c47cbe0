import type { Caller } from '../../auth/authenticate.ts';
import type { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { scrubSecrets } from '../../providers/openai-compatible/errors.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import { health, inc, type MetricsEnv, raiseAlert, scheduleFlush, type WaitUntil } from './buffer.ts';
import type { CallEndpoint } from '../../providers/types.ts';
import { callerLabels, deploymentLabels, exceptionClass, modelGroupLabel, ROUTES, statusLabel } from './labels.ts';
import { M } from './registry.ts';
import { log } from '../log.ts';

/**
 * What other parts of the gateway call to feed metrics and alerts beyond the
 * per-call sink. Each only updates the isolate's buffer (and schedules its
 * flush through `ctx.waitUntil`): no I/O, never throws, fine on any path.
 */

/** The model groups a label may name (the catalog's `groups`, or any set of names). */
export interface KnownGroups {
  has(name: string): boolean;
}

/**
 * The model-call path: a call refused before any deployment was picked (bad
 * body, unknown key, no access to the model, a limit or budget, an unknown
 * model), which emits no CallEvent. Counts it in
 * litellm_proxy_total_requests_metric and litellm_proxy_failed_requests_metric
 * as LiteLLM does. `caller` only once the key is known to be valid (a
 * made-up key's hash must not become a label); `group` is whatever the body
 * named, reported as "other" unless `known` has it. `custom`: the call's
 * custom labels (custom-labels.ts), when the config sets them.
 */
export function recordRejectedCall(env: MetricsEnv, ctx: WaitUntil, r: {
  caller?: Caller;
  endpoint: CallEndpoint;
  group: unknown;
  known: KnownGroups;
  error: GatewayError;
  custom?: readonly string[];
}): void {
  try {
    const labels = {
      ...(r.caller ? callerLabels(r.caller) : {}),
      requested_model: modelGroupLabel(r.group, r.known),
      route: ROUTES[r.endpoint],
    };
    inc(M.proxyTotal, { ...labels, status_code: statusLabel(r.error.status) }, 1, r.custom);
    inc(M.proxyFailed, { ...labels, exception_status: statusLabel(r.error.status), exception_class: exceptionClass(r.error, undefined) }, 1, r.custom);
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('recordRejectedCall failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * The router: a fallback from `requestedModel` to `fallbackModel` after
 * `error`, which worked (`success`) or not. Names outside `known` (a
 * client's made-up fallback model) are reported as "other".
 */
export function recordFallback(env: MetricsEnv, ctx: WaitUntil, f: {
  caller: Caller;
  requestedModel: string;
  fallbackModel: string;
  known: KnownGroups;
  error?: GatewayError;
  provider?: string;
  success: boolean;
}): void {
  try {
    inc(f.success ? M.successfulFallbacks : M.failedFallbacks, {
      ...callerLabels(f.caller),
      requested_model: modelGroupLabel(f.requestedModel, f.known),
      fallback_model: modelGroupLabel(f.fallbackModel, f.known),
      ...(f.error ? { exception_status: statusLabel(f.error.status), exception_class: exceptionClass(f.error, f.provider) } : {}),
    });
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('recordFallback failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * The router: `deployment` enters cooldown for `cooldownSeconds` after an
 * error with `status`. Counts litellm_deployment_cooled_down, marks the
 * deployment as in outage (litellm_deployment_state = 2) until the cooldown
 * ends, and raises a "Deployment Cooldown" alert (one per deployment a minute).
 */
export function recordDeploymentCooldown(env: MetricsEnv, ctx: WaitUntil, c: {
  deployment: DeploymentRef;
  status?: number;
  cooldownSeconds: number;
  /** A short reason, such as the error's message (it is cut and scrubbed of anything key-shaped). */
  reason?: string;
}): void {
  try {
    const d = deploymentLabels(c.deployment);
    const status = statusLabel(c.status);
    inc(M.cooledDown, { ...d, exception_status: status });
    const seconds = Number.isFinite(c.cooldownSeconds) && c.cooldownSeconds > 0 ? c.cooldownSeconds : 0;
    health(M.deploymentState, d, { cooldownUntil: Date.now() + seconds * 1000 });
    if (alertEnabled(alertSettings(env as Record<string, unknown>), 'cooldown_deployment')) {
      raiseAlert({
        type: 'cooldown_deployment',
        dedupe: `cooldown:${d.model_id}`,
        group: d.model_group as string,
        model: d.litellm_model_name as string,
        deploymentId: d.model_id as string,
        apiBase: d.api_base as string,
        status,
        cooldownSeconds: seconds,
        reason: scrubSecrets(c.reason ?? '', []).slice(0, 300) || 'n/a',
      });
    }
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('recordDeploymentCooldown failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * The response cache: one lookup for `group` that hit or missed
 * (`cachedTokens`: the tokens a hit served). Count each lookup here once;
 * the CallEvent of a cached answer does not count as a hit by itself.
 */
export function recordCacheLookup(env: MetricsEnv, ctx: WaitUntil, c: {
  caller: Caller;
  group: string;
  known: KnownGroups;
  hit: boolean;
  cachedTokens?: number;
}): void {
  try {
    const labels = { ...callerLabels(c.caller), model: modelGroupLabel(c.group, c.known) };
    inc(c.hit ? M.cacheHits : M.cacheMisses, labels);
    if (c.hit && c.cachedTokens) inc(M.cachedTokens, labels, c.cachedTokens);
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('recordCacheLookup failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * The response cache's Redis failed or timed out since the last report
 * (requests went on uncached): counts tollgate_cache_errors by reason and
 * raises a "Cache Unavailable" alert (at most one per 5 minutes).
 */
export function recordCacheFailures(env: MetricsEnv, ctx: WaitUntil, f: { errors: number; timeouts: number; lastError: string }): void {
  try {
    if (f.timeouts) inc(M.cacheErrors, { reason: 'timeout' }, f.timeouts);
    if (f.errors) inc(M.cacheErrors, { reason: 'error' }, f.errors);
    if (alertEnabled(alertSettings(env as Record<string, unknown>), 'cache_unavailable')) {
      raiseAlert({ type: 'cache_unavailable', dedupe: 'cache', timeouts: f.timeouts, errors: f.errors, error: scrubSecrets(f.lastError, []).slice(0, 300) || 'n/a' });
    }
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('recordCacheFailures failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * A logging callback (Langfuse, ...) failed to deliver: counts
 * litellm_callback_logging_failures_metric and raises a "Callback Failed"
 * alert (one per callback per 5 minutes). Works from the admin Worker too
 * (its queue consumers) once it has the METRICS binding.
 */
export function reportCallbackFailure(env: MetricsEnv, ctx: WaitUntil, f: { callback: string; error: unknown }): void {
  try {
    const name = /^[A-Za-z0-9_.-]{1,64}$/.test(f.callback) ? f.callback : 'other';
    inc(M.callbackFailures, { callback_name: name });
    if (alertEnabled(alertSettings(env as Record<string, unknown>), 'callback_failure')) {
      const message = f.error instanceof Error ? f.error.message : String(f.error);
      raiseAlert({ type: 'callback_failure', dedupe: `callback:${name}`, callback: name, error: scrubSecrets(message, []).slice(0, 300) });
    }
    scheduleFlush(env, ctx);
  } catch (err) {
    log.error('reportCallbackFailure failed:', err instanceof Error ? err.message : String(err));
  }
}
