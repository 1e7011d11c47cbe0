import type { Caller } from '../auth/authenticate.ts';
import type { JwtPermits } from '../auth/jwt-permissions.ts';
import { GatewayError } from '../errors.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import type { Admission } from '../limits/admission-answer.ts';
import { holdKeyTagBudgets } from '../limits/budget-hold.ts';
import { tagBudgetIds } from '../limits/router-budgets.ts';
import { type StoredTags, storedTags } from '../limits/stored-tags.ts';
import { routingTags } from '../router/eligible-deployments.ts';
import { admit } from './call-helpers.ts';
import { holdingSlot, takeGlobalSlot } from './global-slot.ts';
import type { Seen } from './refused-call.ts';
import { type CallContext, clientTagsRefusal } from './call-context.ts';
import type { WaitUntil } from '../telemetry/emit.ts';

export interface AdmittedCall {
  /** Undefined for a master-key call no end-user, proxy-wide or tag budget applies to. */
  admission: Admission | undefined;
  caller: Caller;
  /** The call's tags: the request's own, then its key's and team's (LiteLLM merges those into the request's). */
  tags: string[];
  /** The tags `/tag/new`'s models give deployments, with tag-based routing on (as LiteLLM adds them then), when any. */
  modelTags: ReadonlyMap<string, readonly string[]> | undefined;
  /** The stored tags (`/tag/new`), read at most once a call. */
  loadStored(): Promise<StoredTags>;
}

/** Whether a proxy-wide budget (`max_budget`) holds every call. */
export function hasGlobalBudget(config: TollgateConfig): boolean {
  return (config.general_settings.max_budget ?? config.litellm_settings.max_budget) !== undefined;
}

/**
 * Who may make the call, and what holds it: one parallel round of limiter calls (key, team, org or
 * user, end user, the proxy-wide budget, the budgets of the request's tags; the master key has no
 * limits of its own), then the budgets of the tags its key and team bring. The router holds the
 * serving deployment's. A refusal throws, with what was admitted undone.
 */
export async function admitModelCall(
  env: GatewayEnv, ctx: WaitUntil, config: TollgateConfig,
  call: {
    who: { token: string; master: boolean; shown: string; endUser?: string; permits?: JwtPermits }; requestId: string; group: string; endUser: string | null; ownTags: string[];
    estimate: { estCost: number; estTokens: number }; free: boolean; seen: Seen;
    /** The request `ownTags` come from, for `reject_clientside_metadata_tags` (absent: tags the gateway carried over). */
    client?: Pick<CallContext, 'body' | 'headers'>;
    /** A model call the router serves: it takes a slot of `global_max_parallel_requests` (Realtime, MCP, pass-through and object routes do not). */
    countGlobal?: boolean;
  },
): Promise<AdmittedCall> {
  const { who, ownTags } = call;
  // A JWT's end user (end_user_id_jwt_field) is the call's, in place of the request's `user`.
  const endUser = who.endUser ?? call.endUser;
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
  const globalBudget = hasGlobalBudget(config);
  const tagFiltering = config.router_settings.enable_tag_filtering === true;
  let storedRead: Promise<StoredTags> | undefined;
  const loadStored = () => (storedRead ??= storedTags(env, ctx));
  const stored = ownTags.length || tagFiltering ? await loadStored() : undefined;
  const budgets = stored && ownTags.length ? tagBudgetIds(config, ownTags, stored.budgeted) : undefined;
  // general_settings.global_max_parallel_requests, first as in LiteLLM; given back with the admission (settled or undone).
  const slot = call.countGlobal !== true || config.general_settings.global_max_parallel_requests === undefined ? undefined : await takeGlobalSlot(env, ctx, config, call.requestId);
  if (slot) (call.seen.slots ??= []).push(slot);
  let admission: Admission | undefined;
  try {
    admission = !who.master || endUser || globalBudget || budgets?.length
      ? await admit(env, who, {
        requestId: call.requestId, model: call.group, endUser, globalBudget, ...(budgets?.length ? { budgets } : {}), ...call.estimate, free: call.free, waitUntil,
      })
      : undefined;
  } catch (err) {
    slot?.free();
    throw err;
  }
  try {
    if (slot) admission = holdingSlot(admission, slot);
    const refusal = admission?.policy?.refusal;
    if (admission && refusal) {
      // A JWT's team or user that is gone (jwt-policy.ts): nothing it brought in applies any more.
      waitUntil(admission.release());
      throw new GatewayError(refusal.message, { status: refusal.status, type: refusal.type, param: 'key' });
    }
    const caller: Caller = who.master || !admission?.policy ? { kind: 'master', token: who.token }
      : who.endUser ? { kind: 'key', token: admission.policy.token, policy: admission.policy, endUser: who.endUser }
        : { kind: 'key', token: admission.policy.token, policy: admission.policy };
    // A JWT's role and scope models (auth/jwt-permissions.ts), held wherever the call authorizes its model (models/access.ts).
    if (who.permits) caller.permits = who.permits;
    if (caller.kind === 'key' && call.client && config.general_settings.reject_clientside_metadata_tags === true) {
      const refused = clientTagsRefusal(call.client);
      if (refused) {
        call.seen.caller = caller;
        if (admission) waitUntil(admission.release());
        throw refused;
      }
    }
    const tags = caller.kind === 'key' ? routingTags(ownTags, caller.policy) : ownTags;
    call.seen.caller = caller;
    if (call.seen.call) call.seen.call.tags = tags;
    if (tags.length > ownTags.length && admission) {
      const more = tagBudgetIds(config, tags.filter((t) => !ownTags.includes(t)), (await loadStored()).budgeted);
      if (more.length) admission = await holdKeyTagBudgets(env, admission, more, { requestId: `${call.requestId}:tags`, model: call.group, ...call.estimate, free: call.free, waitUntil });
    }
    // Only with tag-based routing: whether a call carries tags of its own must not change its deployment's.
    return { admission, caller, tags, modelTags: tagFiltering && stored?.byModel.size ? stored.byModel : undefined, loadStored };
  } catch (err) {
    // Whatever refused the call after its global slot was taken: the slot goes back (freeing twice is harmless).
    slot?.free();
    throw err;
  }
}
