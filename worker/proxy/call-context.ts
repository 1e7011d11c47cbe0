import type { Caller } from '../auth/authenticate.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallEndpoint, RequestHeaders } from '../providers/types.ts';
import type { GatewayState } from '../state.ts';
import { GatewayError } from '../errors.ts';

export type CallType = 'acompletion' | 'atext_completion' | 'aembedding' | 'aresponses' | 'amoderation' | 'aimage_generation' | 'aspeech' | 'atranscription' | 'aimage_edit' | 'arerank' | 'aocr' | 'pass_through_endpoint' | '_arealtime' | 'call_mcp_tool' | 'asearch' | 'asend_message' | 'acreate_interaction';

export const CALL_TYPES: Record<CallEndpoint, CallType> = {
  chat: 'acompletion',
  completion: 'atext_completion',
  embedding: 'aembedding',
  responses: 'aresponses',
  moderation: 'amoderation',
  image_generation: 'aimage_generation',
  speech: 'aspeech',
  transcription: 'atranscription',
  image_edit: 'aimage_edit',
  rerank: 'arerank',
  ocr: 'aocr',
  pass_through: 'pass_through_endpoint',
  realtime: '_arealtime',
  mcp: 'call_mcp_tool',
  search: 'asearch',
  a2a: 'asend_message',
  interaction: 'acreate_interaction',
};

/** Everything known about one model call once it is admitted, for headers and the spend log. */
export interface CallContext {
  callId: string;
  startedAt: number;
  endpoint: CallEndpoint;
  caller: Caller;
  deployment: DeploymentRef;
  body: Record<string, unknown>;
  stream: boolean;
  headers: RequestHeaders;
  /** Keep the answer's text (for the spend log with store_prompts_in_spend_logs, or for Langfuse). */
  keepText: boolean;
  /** `store_prompts_in_spend_logs`: prompts and answers go into the spend log. */
  storePrompts: boolean;
  /** The end user's `allowed_model_region` (x-litellm-model-region); only deployments of that `region_name` serve the call. */
  modelRegion?: string;
  /** The call's tags: the request's, then its key's and team's (LiteLLM merges those into the request's); absent: the request's. */
  tags?: readonly string[];
  /** Once a deployment is called: its tags (`litellm_params.tags`, and those `/tag/new`'s models give it). */
  servedTags?: readonly string[];
  /** The guardrails that ran on the call (config.yaml's `guardrails`), for its spend-log row and headers. */
  appliedGuardrails?: readonly string[];
  /** A guardrail answered the request (`disable_exception_on_block`, pre_call): settled at no cost, as LiteLLM's zero usage. */
  guardrailAnswered?: true;
}

/**
 * `general_settings.reject_clientside_metadata_tags`: LiteLLM's 400 for a call that names tags itself
 * (`metadata.tags`, `tags` or the `x-litellm-tags` header; tags then come from keys and teams only), or
 * nothing when it names none. For virtual keys' calls, once the key is known (call-admission.ts).
 */
export function clientTagsRefusal(ctx: Pick<CallContext, 'body' | 'headers'>): GatewayError | undefined {
  const metadata = ctx.body.metadata;
  const param = typeof metadata === 'object' && metadata !== null && Object.hasOwn(metadata, 'tags') ? 'metadata.tags'
    : ctx.body.tags !== undefined ? 'tags'
      : ctx.headers.get('x-litellm-tags') !== null ? 'x-litellm-tags' : undefined;
  if (!param) return undefined;
  return new GatewayError('Client-side \'metadata.tags\' not allowed in request. \'reject_clientside_metadata_tags\'=True. Tags can only be set via API key metadata.', {
    status: 400, type: 'bad_request_error', param,
  });
}

/** Request tags: the body's `tags`, `metadata.tags` and the `x-litellm-tags` header, de-duplicated and bounded. */
export function requestTags(ctx: Pick<CallContext, 'body' | 'headers'>): string[] {
  const tags = new Set<string>();
  const add = (v: unknown) => typeof v === 'string' && v.trim() && tags.add(v.trim().slice(0, 128));
  if (Array.isArray(ctx.body.tags)) ctx.body.tags.forEach(add);
  const metadata = ctx.body.metadata as { tags?: unknown } | null | undefined;
  if (Array.isArray(metadata?.tags)) metadata.tags.forEach(add);
  ctx.headers.get('x-litellm-tags')?.split(',').forEach(add);
  return [...tags].slice(0, 32);
}

/**
 * A call's tags as its spend-log row (`request_tags`), tag budgets and Langfuse see them: the call's
 * own, its key's and team's, and those of the deployment that served it (LiteLLM's request tags for spend tracking).
 */
export function callTags(ctx: Pick<CallContext, 'body' | 'headers' | 'tags' | 'servedTags'>): string[] {
  // The request's own are bounded (requestTags); its key's, team's and deployment's are the admins' and all kept.
  const own = ctx.tags ?? requestTags(ctx);
  const given = ctx.servedTags;
  return given?.length ? [...new Set([...own, ...given])] : [...own];
}

/** The end user: the one the caller's JWT names (`end_user_id_jwt_field`), else the body's `user`, else the `x-litellm-end-user-id` header. */
export function endUserOf(ctx: Pick<CallContext, 'body' | 'headers'> & Partial<Pick<CallContext, 'caller'>>): string | null {
  if (ctx.caller?.kind === 'key' && ctx.caller.endUser) return ctx.caller.endUser;
  const user = typeof ctx.body.user === 'string' && ctx.body.user ? ctx.body.user : ctx.headers.get('x-litellm-end-user-id');
  return user ? user.slice(0, 256) : null;
}

/** How a route calls the model-call path (model-call.ts handleModelCall). */
export interface ModelCallOptions {
  /** Azure-style paths name the model group in the path. */
  modelFromPath?: string;
  /**
   * An OpenAI-format body another route already read (and maybe translated: the Anthropic-format
   * /v1/messages; /v1/responses, which reads it first for its MCP tools); it is validated like a client's.
   */
  body?: Record<string, unknown>;
  /** The body as the client sent it, where `body` is its translation (/v1/messages): enforced_params and client tags read it. */
  clientBody?: Record<string, unknown>;
  /** A body that is not JSON (a transcription's multipart form), read after the key is checked; validated like a client's. */
  readBody?: (request: Request, maxBytes: number) => Promise<Record<string, unknown>>;
  /** The model group of a request that names none (moderations, as in LiteLLM); a 400 when there is none either. */
  defaultModel?: (config: GatewayState['config']) => string | undefined;
  /** Fields of the body that are the route's own and never a provider's (`priority` on /queue/chat/completions). */
  dropFields?: readonly string[];
  /**
   * Dollars the route spent for this call before it (/rag/query's search), settled with the call into the
   * limiters that admit it (the route's own admission undone): billed only once the call is admitted.
   */
  extraCost?: number;
}
