import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema, imageGenerationRequestSchema, moderationRequestSchema, imageEditRequestSchema, rerankRequestSchema, responsesRequestSchema, speechRequestSchema, transcriptionRequestSchema } from '../openai/request-schemas.ts';
import { readFormBody } from '../openai/read-form.ts';
import { OCR_DEFAULT_MAX_UPLOAD_BYTES, ocrRequestSchema, readOcrBody } from '../openai/ocr-request.ts';
import { DEFAULT_MAX_FORM_BYTES } from '../openai/read-form.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { identify } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { hasProxyMcpTools } from '../mcp/responses-tools.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall } from '../proxy/refused-call.ts';
import { gatewayState } from '../state.ts';
import { mcpResponses } from './mcp-responses.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** `POST /v1/chat/completions`; on Azure-style paths the deployment in the path names the model group. */
export const chatCompletions = (c: Ctx) => handleModelCall(c, 'chat', chatRequestSchema, { modelFromPath: c.req.param('model') });
/**
 * LiteLLM's `POST /queue/chat/completions`: a chat call, whose `priority` is
 * LiteLLM's scheduler's and so is not sent on (on other routes a vLLM
 * deployment takes `priority` as its own). Calls are not queued here.
 */
export const queuedChatCompletions = (c: Ctx) => handleModelCall(c, 'chat', chatRequestSchema, { dropFields: ['priority'] });
/** `POST /v1/completions` (legacy text completions). */
export const completions = (c: Ctx) => handleModelCall(c, 'completion', completionRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/embeddings`. */
export const embeddings = (c: Ctx) => handleModelCall(c, 'embedding', embeddingRequestSchema, { modelFromPath: c.req.param('model') });
/**
 * `POST /v1/responses` (OpenAI's Responses API), for providers that speak it (OpenAI, vLLM and other OpenAI-compatible servers).
 * A request with LiteLLM's `{type: "mcp", server_url: "litellm_proxy"}` tools runs the MCP tool loop (mcp-responses.ts).
 */
export async function responses(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  let body: Record<string, unknown>;
  try {
    // As every model call: a request without a key is refused before its body is read.
    await identify(headerSnapshot(c.req.raw.headers), state, c.req.path);
    body = await readJsonBody(c.req.raw, responsesRequestSchema, bodyLimit(state.config));
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'responses', {}, err);
    throw err;
  }
  if (hasProxyMcpTools(body)) return mcpResponses(c, state, body);
  return handleModelCall(c, 'responses', responsesRequestSchema, { body });
}
/** `POST /v1/images/generations` (OpenAI, Azure OpenAI); on Azure-style paths the deployment in the path names the model group. */
export const imageGenerations = (c: Ctx) => handleModelCall(c, 'image_generation', imageGenerationRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/audio/speech` (text to speech: OpenAI, Azure OpenAI); on Azure-style paths the deployment in the path names the model group. */
export const speech = (c: Ctx) => handleModelCall(c, 'speech', speechRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/audio/transcriptions` (speech to text, multipart/form-data: OpenAI, Azure OpenAI). */
export const transcriptions = (c: Ctx) => handleModelCall(c, 'transcription', transcriptionRequestSchema, { modelFromPath: c.req.param('model'), readBody: readFormBody });
/** `POST /v1/images/edits` (multipart/form-data: OpenAI, Azure OpenAI). */
export const imageEdits = (c: Ctx) => handleModelCall(c, 'image_edit', imageEditRequestSchema, { modelFromPath: c.req.param('model'), readBody: readFormBody });
/** `POST /rerank`, `/v1/rerank`, `/v2/rerank` (Cohere's format: Cohere, vLLM and OpenAI-compatible servers). */
export const rerank = (c: Ctx) => handleModelCall(c, 'rerank', rerankRequestSchema);
/** `POST /ocr`, `/v1/ocr` (LiteLLM's OCR API, Mistral's format: Mistral, Azure AI); the document as JSON, or a multipart upload. */
export const ocr = (c: Ctx) => handleModelCall(c, 'ocr', ocrRequestSchema, {
  // An upload is bound to OCR_DEFAULT_MAX_UPLOAD_BYTES where max_request_size_mb sets no bound of its own.
  readBody: (request, maxBytes) => readOcrBody(request, maxBytes === DEFAULT_MAX_FORM_BYTES ? OCR_DEFAULT_MAX_UPLOAD_BYTES : maxBytes),
});
/** `POST /v1/moderations` (OpenAI's moderation models); without a model, the config's moderation model group. */
export const moderations = (c: Ctx) => handleModelCall(c, 'moderation', moderationRequestSchema, { defaultModel: moderationGroup });

/**
 * The model group a moderation without `model` goes to, as LiteLLM sends it to OpenAI's default moderation
 * model: the first of config.yaml's groups whose deployment is an OpenAI moderation model.
 */
function moderationGroup(config: TollgateConfig): string | undefined {
  return config.model_list.find((m) => /^(openai\/)?(omni|text)-moderation/.test(m.litellm_params.model))?.model_name;
}
