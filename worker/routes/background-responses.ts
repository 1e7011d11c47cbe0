import type { Caller } from '../auth/authenticate.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { responsesOutputText } from '../providers/openai-compatible/answers.ts';
import { readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import type { CallOutcome, RequestHeaders } from '../providers/types.ts';
import type { CallContext } from '../proxy/call-context.ts';
import { spendRecord } from '../proxy/spend-record.ts';
import type { GatewayState } from '../state.ts';
import { emitCall } from '../telemetry/emit.ts';
import { langfuseWantsText } from '../telemetry/langfuse/logging-settings.ts';

const FINISHED = new Set(['completed', 'incomplete', 'failed', 'cancelled']);
const NO_HEADERS: RequestHeaders = { get: () => null, forEach: () => undefined };

/**
 * A background response (`background: true`) is made after its POST, which
 * answers it queued and is priced at 0. Its usage comes with the response
 * itself, which the client can only have through the gateway
 * (`GET /v1/responses/{id}`): the first fetch that finds it finished records
 * its spend and its Langfuse trace, as one more call of the model group by
 * the fetching key. Its spend-log request id is the response's gateway id,
 * so later fetches add nothing (the spend-log consumer keeps the first row
 * of a request id, and Langfuse the first trace of an id). The limiters see
 * this spend as they see any spend they missed: from Postgres, within a
 * minute.
 */
export function recordFinishedBackground(
  c: { env: GatewayEnv; executionCtx: Pick<ExecutionContext, 'waitUntil'> }, state: GatewayState, caller: Caller, deployment: DeploymentRef, gatewayId: string,
  response: { background?: unknown; status?: unknown; usage?: unknown; created_at?: unknown; output?: unknown; model?: unknown },
): void {
  if (response.background !== true || typeof response.status !== 'string' || !FINISHED.has(response.status)) return;
  const usage = readOpenAIUsage(response.usage as never);
  if (!usage) return;
  const finishedAt = Date.now();
  const startedAt = typeof response.created_at === 'number' ? response.created_at * 1000 : finishedAt;
  const keepText = langfuseWantsText(state.config, caller) || state.config.general_settings.store_prompts_in_spend_logs === true;
  const text = keepText ? responsesOutputText(response.output) : undefined;
  const outcome: CallOutcome = { usage, finishedAt, ...(text !== undefined ? { responseText: text } : {}) };
  const ctx: CallContext = {
    callId: gatewayId, startedAt, endpoint: 'responses', caller, deployment, body: { model: deployment.group, background: true }, stream: false,
    headers: NO_HEADERS, keepText, storePrompts: state.config.general_settings.store_prompts_in_spend_logs === true,
  };
  const cost = costOfCall(deployment, usage);
  emitCall(c.env, c.executionCtx, {
    record: spendRecord(ctx, { outcome, cost, apiBase: deployment.params.api_base ?? '', finishedAt }), endpoint: 'responses', caller, deployment,
    body: ctx.body, stream: false, outcome, headers: NO_HEADERS, startedAt, finishedAt,
  });
}
