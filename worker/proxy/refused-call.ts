import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import type { GatewayError } from '../errors.ts';
import type { HeldSlot } from '../router/deployment-slots.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallEndpoint } from '../providers/types.ts';
import { runtimeConfig } from '../config/runtime.ts';
import { callCustomLabels } from '../telemetry/metrics/custom-labels.ts';
import { recordRejectedCall } from '../telemetry/metrics/hooks.ts';
import { recordSpend } from '../telemetry/spend-log.ts';
import { spendRecord } from './spend-record.ts';
import { log } from '../telemetry/log.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const NO_HEADERS = new Headers();

/** What a model call had learnt when it was refused, for the refusal's metrics and spend-log row. */
export interface Seen {
  caller?: Caller;
  group?: unknown;
  known?: ReadonlyMap<string, unknown>;
  /** Once the key is known: the call as far as it got, for its spend-log row. */
  call?: { token: string; body: Record<string, unknown>; startedAt: number; storePrompts: boolean; deployment?: DeploymentRef; tags?: readonly string[]; endUser?: string };
  /** Slots of parallel-request caps the call holds (router/deployment-slots.ts): given back if it ends in an exception. */
  slots?: HeldSlot[];
}

/**
 * The spend-log row of a call refused before any provider (limits, budget, model access, an unknown
 * model, enforce_user_param), as LiteLLM logs its proxy's own errors: status failure, no spend, the
 * error in metadata. Only once the key is known to be one (an unknown key's request is not a call).
 */
function recordRefusal(c: Ctx, endpoint: CallEndpoint, seen: Seen, error: GatewayError): void {
  const call = seen.call;
  if (!call || error.type === 'token_not_found_in_db') return;
  try {
    const group = typeof seen.group === 'string' ? seen.group : '';
    const now = Date.now();
    const record = spendRecord({
      callId: crypto.randomUUID(), startedAt: call.startedAt, endpoint, caller: seen.caller ?? { kind: 'master', token: call.token },
      // No deployment was called: the row carries the call's own tags (its key's and team's once known), none of a deployment's.
      deployment: call.deployment ?? { id: '', group, provider: '' as DeploymentRef['provider'], model: group },
      // A guardrail's refusal keeps no prompt: what it refused (a card number, an injection) does not go to the logs.
      body: call.body, headers: c.req.raw.headers, storePrompts: call.storePrompts && !error.type.startsWith('guardrail_'), ...(call.tags ? { tags: call.tags } : {}),
    }, { error, cost: 0, apiBase: '', finishedAt: now });
    // A JWT's end user (end_user_id_jwt_field) is the call's, refused or not, whatever the request's `user` says.
    if (call.endUser) record.end_user = call.endUser;
    recordSpend(c.env, c.executionCtx, record);
  } catch (err) {
    log.error('spend log of a refused call failed:', err instanceof Error ? err.message : String(err));
  }
}

/**
 * The refused call's custom metrics labels (litellm_settings.custom_prometheus_metadata_labels), from
 * what it had sent and its key, once both are known; "None" values before (a body that did not parse,
 * a key not yet looked up), so the metrics keep one label set.
 */
function customLabelsOf(c: Ctx, seen: Seen): string[] | undefined {
  try {
    const entries = runtimeConfig(c.env).config.litellm_settings.custom_prometheus_metadata_labels;
    if (!entries) return undefined;
    // Nothing of a request whose key is not known to be valid may become a label value.
    if (!seen.call || !seen.caller) return callCustomLabels(entries, { kind: 'master', token: '' }, {}, NO_HEADERS);
    return callCustomLabels(entries, seen.caller, seen.call.body, c.req.raw.headers);
  } catch {
    // An invalid config refuses every call on its own; the refusal is still counted.
    return undefined;
  }
}

/**
 * A call refused before any provider (bad body, unknown key, limits, model access, unknown model)
 * produces no CallEvent; it counts in the proxy's request metrics, as LiteLLM counts it, and once the
 * key is known, gets its spend-log row.
 */
export function recordRefusedCall(c: Ctx, endpoint: CallEndpoint, seen: Seen, error: GatewayError): void {
  recordRejectedCall(c.env, c.executionCtx, { caller: seen.caller, endpoint, group: seen.group, known: seen.known ?? new Map(), error, custom: customLabelsOf(c, seen) });
  recordRefusal(c, endpoint, seen, error);
}
