import type { Caller } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import type { GatewayError } from '../errors.ts';
import type { BudgetHold, BudgetRefusal } from '../limits/budget-hold.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import type { EncryptedItemsSink, ProviderAnswer } from '../providers/types.ts';
import type { GatewayState } from '../state.ts';
import type { HeldSlot } from './deployment-slots.ts';
import type { AffinityInput } from './affinity.ts';
import type { WaitUntil } from '../telemetry/emit.ts';

// What routeCall (route-call.ts) takes and answers, and how long one attempt may take.


export interface RouteInput {
  /** Who is calling, for the fallback metrics' labels. */
  caller: Caller;
  env: GatewayEnv;
  ctx: WaitUntil;
  state: GatewayState;
  catalog: ModelCatalog;
  requested: string;
  /** Why a deployment cannot serve this call's endpoint (a provider without /responses), undefined when it can: such deployments are skipped. */
  refusal?: (d: DeploymentRef) => GatewayError | undefined;
  /** The call's tags (its own, its key's and team's), for tag-based routing when `enable_tag_filtering` is on. */
  tags?: readonly string[] | undefined;
  /** Tags that `/tag/new` gave models (deployment ids or groups), for tag-based routing. */
  modelTags?: ReadonlyMap<string, readonly string[]> | undefined;
  /** The end user's `allowed_model_region`: only deployments whose `region_name` is this one may serve the call. */
  region?: string | undefined;
  /** The client's own `fallbacks` (LiteLLM's request-body field). */
  clientFallbacks?: string[];
  stream: boolean;
  promptTokens: number;
  /** ms epoch of the deadline for the whole request, retries and fallbacks included. */
  deadline: number;
  /** The request's own `timeout`, `stream_timeout` (seconds) and `num_retries` (body or `x-litellm-*` headers), over the config's. */
  overrides?: CallOverrides;
  /** `encryptedItems`: takes the answer's reasoning items, for `encrypted_content_affinity` (ProviderCall.encryptedItems). */
  call(deployment: DeploymentRef, timeoutMs: number, encryptedItems?: EncryptedItemsSink): Promise<ProviderAnswer>;
  /**
   * Holds room for the call in the deployment's budgets (a provider's, its own: budget routing,
   * limits/router-budgets.ts); undefined, at once, when none applies. A deployment whose budget is
   * spent is passed over like one cooling down.
   */
  hold?(deployment: DeploymentRef): Promise<BudgetHold | BudgetRefusal> | undefined;
  /** What the call may be pinned to a deployment by (`optional_pre_call_checks`, affinity.ts); undefined when none applies. */
  affinity?: AffinityInput | undefined;
  random?: () => number;
}

export interface Routed {
  answer: ProviderAnswer;
  deployment: DeploymentRef;
  attemptedRetries: number;
  attemptedFallbacks: number;
  /** The room held in the serving deployment's budgets, to settle with the call's cost. */
  hold?: BudgetHold;
  /** The serving deployment's slot of its `max_parallel_requests`, to free when the call ends (its stream's end too). */
  slot?: HeldSlot;
}

export interface CallOverrides {
  timeoutS?: number;
  streamTimeoutS?: number;
  numRetries?: number;
}

/** One attempt's time: the call's own timeout (stream or plain), else the deployment's, the router's, the proxy's; within what is left of the request's. */
export function attemptTimeoutMs(state: GatewayState, d: DeploymentRef, stream: boolean, msLeft: number, o: CallOverrides | undefined): number {
  const r = state.config.router_settings;
  const seconds = (stream ? o?.streamTimeoutS ?? d.params.stream_timeout ?? r.stream_timeout : undefined) ?? o?.timeoutS ?? d.params.timeout ?? r.timeout
    ?? state.config.litellm_settings.request_timeout ?? 600;
  return Math.max(1, Math.min(seconds * 1000, msLeft));
}
