import type { Caller } from '../auth/authenticate.ts';
import type { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import { recordSpend, type SpendLogRecord } from '../telemetry/spend-log.ts';
import type { GatewayEnv } from '../env.ts';

/** LiteLLM's call types of the requests on provider objects the gateway logs without token usage. */
export type CreationCallType = 'acreate_container' | 'acreate_skill' | 'acreate_fine_tuning_job' | 'avector_store_create' | 'avector_store_search' | 'avideo_generation' | 'avideo_remix';

export interface Creation {
  callType: CreationCallType;
  /** The provider's id of what was made (the row's request_id, as a batch's bill has it), else the request's own. */
  requestId: string;
  caller: Caller;
  deployment: Pick<DeploymentRef, 'id' | 'group' | 'provider'>;
  /** The model sent to the provider. */
  model: string;
  /** The key's and its team's tags. */
  tags: string[];
  startedAt: number;
  /** What the request cost the key (a vector store search at a configured price, a video's seconds, a container's session); 0 when absent. */
  spend?: number;
  error?: GatewayError;
}

/**
 * The spend-log row of a request that made (or failed to make) a provider object, or searched one, with no tokens,
 * as LiteLLM logs it: the key, its team, organization and user, the deployment, and the outcome.
 */
export function recordCreation(env: GatewayEnv, ctx: WaitUntil, creation: Creation): void {
  const { caller, deployment, error } = creation;
  const policy = caller.kind === 'key' ? caller.policy : undefined;
  const finishedAt = Date.now();
  const metadata: Record<string, unknown> = {
    user_api_key_alias: policy?.keyAlias ?? null,
    user_api_key_user_id: policy?.userId ?? null,
    user_api_key_team_id: policy?.team?.id ?? null,
    user_api_key_team_alias: policy?.team?.alias ?? null,
    user_api_key_org_id: policy?.organizationId ?? null,
  };
  if (error) metadata.error_information = { error_class: error.type, error_code: String(error.status), error_message: error.message.slice(0, 500) };
  const record = {
    request_id: creation.requestId,
    call_type: creation.callType,
    api_key: caller.token,
    spend: creation.spend ?? 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    startTime: new Date(creation.startedAt).toISOString(),
    endTime: new Date(finishedAt).toISOString(),
    completionStartTime: null,
    request_duration_ms: finishedAt - creation.startedAt,
    model: creation.model,
    model_id: deployment.id,
    model_group: deployment.group,
    custom_llm_provider: deployment.provider,
    api_base: '',
    user: policy?.userId ?? '',
    metadata,
    cache_hit: false,
    cache_key: null,
    request_tags: creation.tags,
    team_id: policy?.team?.id ?? null,
    organization_id: policy?.organizationId ?? null,
    end_user: null,
    messages: null,
    response: null,
    session_id: null,
    status: error ? 'failure' : 'success',
    error_type: error ? error.type : null,
  } satisfies SpendLogRecord;
  recordSpend(env, ctx, record);
}
