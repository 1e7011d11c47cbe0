import type { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallOutcome } from '../providers/types.ts';
import type { SpendLogRecord } from '../telemetry/spend-log.ts';
import { CALL_TYPES, type CallContext, callTags, endUserOf } from './call-context.ts';
import { boundedJson } from '../telemetry/bounded-json.ts';
import { withoutClientCredentials } from '../telemetry/langfuse/request-metadata.ts';
import { storedResponse } from './stored-response.ts';

export interface CallResult {
  outcome?: CallOutcome;
  /** Served from the response cache (`x-litellm-cache-key`). */
  cacheKey?: string;
  error?: GatewayError;
  cost: number;
  apiBase: string;
  finishedAt: number;
}

// A record travels in a Queue message (128 KB at most): what a client sends is kept within bounds.
const MAX_METADATA_CHARS = 8 * 1024;
const MAX_STORED_TEXT_CHARS = 32 * 1024;

/** What a spend-log row reads of a call: a refused call has no deployment, only the model it asked for. */
export type RecordedCall = Omit<CallContext, 'deployment' | 'stream' | 'keepText'> & { deployment: Pick<DeploymentRef, 'id' | 'group' | 'provider' | 'model'> };

/** The spend-log row of one call, success or failure. */
export function spendRecord(ctx: RecordedCall, result: CallResult): SpendLogRecord {
  const usage = result.outcome?.usage;
  const policy = ctx.caller.kind === 'key' ? ctx.caller.policy : undefined;
  const requester = ctx.body.metadata && typeof ctx.body.metadata === 'object' ? ctx.body.metadata as Record<string, unknown> : undefined;
  // The row keeps the client's metadata, never a credential it carried for a callback (langfuse_secret_key, ...).
  const requesterKept = requester && !Array.isArray(requester) ? withoutClientCredentials(requester) : requester;
  const error = result.error ?? result.outcome?.error;
  const metadata: Record<string, unknown> = {
    user_api_key_alias: policy?.keyAlias ?? null,
    user_api_key_user_id: policy?.userId ?? null,
    user_api_key_team_id: policy?.team?.id ?? null,
    user_api_key_team_alias: policy?.team?.alias ?? null,
    user_api_key_org_id: policy?.organizationId ?? null,
  };
  if (requesterKept) metadata.requester_metadata = boundedJson(requesterKept, MAX_METADATA_CHARS);
  // LiteLLM's spend_logs_metadata: the x-litellm-spend-logs-metadata header (JSON), else the body's metadata.spend_logs_metadata.
  const spendLogsMetadata = headerJson(ctx.headers.get('x-litellm-spend-logs-metadata')) ?? requester?.spend_logs_metadata;
  if (spendLogsMetadata !== undefined && spendLogsMetadata !== null) metadata.spend_logs_metadata = boundedJson(spendLogsMetadata, MAX_METADATA_CHARS);
  // An A2A call's agent, where LiteLLM's row keeps it (metadata.agent_id).
  if (ctx.endpoint === 'a2a' && typeof ctx.body.agent_id === 'string') metadata.agent_id = ctx.body.agent_id;
  if (usage && !usage.reported) metadata.usage_estimated = true;
  if (ctx.appliedGuardrails?.length) metadata.applied_guardrails = [...ctx.appliedGuardrails];
  if (result.outcome?.aborted) metadata.client_disconnected = true;
  if (error) {
    metadata.error_information = { error_class: error.type, error_code: String(error.status), error_message: error.message.slice(0, 500) };
  }
  const session = (requester?.session_id ?? ctx.body.litellm_session_id ?? ctx.headers.get('x-litellm-session-id')) as unknown;
  // A Responses API call's prompt is its instructions and input (its `prompt` is a stored template's reference).
  const prompt = ctx.endpoint === 'responses'
    ? { instructions: ctx.body.instructions ?? null, input: ctx.body.input ?? null }
    : ctx.body.messages ?? ctx.body.prompt ?? ctx.body.input;
  return {
    request_id: ctx.callId,
    call_type: CALL_TYPES[ctx.endpoint],
    api_key: ctx.caller.token,
    spend: result.cost,
    prompt_tokens: usage?.promptTokens ?? 0,
    completion_tokens: usage?.completionTokens ?? 0,
    total_tokens: (usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0),
    cache_read_input_tokens: usage?.cachedPromptTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheCreationTokens ?? 0,
    startTime: new Date(ctx.startedAt).toISOString(),
    endTime: new Date(result.finishedAt).toISOString(),
    completionStartTime: result.outcome?.firstChunkAt ? new Date(result.outcome.firstChunkAt).toISOString() : null,
    request_duration_ms: result.finishedAt - ctx.startedAt,
    model: ctx.deployment.model,
    model_id: ctx.deployment.id,
    model_group: ctx.deployment.group,
    custom_llm_provider: ctx.deployment.provider,
    api_base: result.apiBase,
    user: policy?.userId ?? '',
    metadata,
    cache_hit: result.cacheKey !== undefined,
    cache_key: result.cacheKey ?? null,
    request_tags: callTags(ctx),
    team_id: policy?.team?.id ?? null,
    organization_id: policy?.organizationId ?? null,
    end_user: endUserOf(ctx),
    messages: ctx.storePrompts ? boundedJson(prompt, MAX_STORED_TEXT_CHARS) : null,
    response: ctx.storePrompts ? storedResponse(ctx, result, MAX_STORED_TEXT_CHARS) : null,
    session_id: typeof session === 'string' ? session.slice(0, 256) : null,
    status: error ? 'failure' : 'success',
    error_type: error ? error.type : null,
  };
}

/** A header's JSON value; its text when it is not JSON; undefined when absent. */
function headerJson(value: string | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
