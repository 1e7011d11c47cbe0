/** config.yaml's `model_list` entries: a deployment's `litellm_params` and `model_info`. */
import { z } from 'zod';
import { bool, duration, nonNegative, posInt, str, strList } from './fields.ts';
import { parseModelRef } from './providers.ts';

/**
 * A deployment's prices, LiteLLM's price-map fields, which `litellm_params` and `model_info` both take: one list,
 * so the two accept the same fields.
 */
const PRICE_FIELDS = {
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  cache_read_input_token_cost: nonNegative.optional(),
  cache_creation_input_token_cost: nonNegative.optional(),
  /** Image generation: the price of one image (LiteLLM's price-map field), on top of any token prices. */
  output_cost_per_image: nonNegative.optional(),
  /** Text to speech: the price of one character of input (LiteLLM's price-map field). */
  input_cost_per_character: nonNegative.optional(),
  /** Transcription: the price of one second of audio (LiteLLM's price-map field). */
  input_cost_per_second: nonNegative.optional(),
  /** Rerank: the price of one search (LiteLLM's price-map field). */
  input_cost_per_query: nonNegative.optional(),
  /** OCR: the price of one page processed (LiteLLM's price-map field). */
  ocr_cost_per_page: nonNegative.optional(),
  /** Video generation: the price of one second of video made (LiteLLM's `output_cost_per_video_per_second` too). */
  output_cost_per_second: nonNegative.optional(),
  output_cost_per_video_per_second: nonNegative.optional(),
  /** Realtime: the price of an audio token in and out (LiteLLM's price-map fields). */
  input_cost_per_audio_token: nonNegative.optional(),
  output_cost_per_audio_token: nonNegative.optional(),
};

/** `litellm_params` of one deployment (`reference/litellm-compat.md` §2). */
export const litellmParamsSchema = z.object({
  model: str.superRefine((value, ctx) => {
    const ref = parseModelRef(value);
    if (!ref.ok) ctx.addIssue({ code: 'custom', message: ref.message });
  }),
  api_base: str.url('expected an http(s) URL').optional(),
  api_key: str.optional(),
  api_version: str.optional(),
  organization: str.optional(),
  rpm: posInt.optional(),
  tpm: posInt.optional(),
  weight: nonNegative.optional(),
  timeout: nonNegative.optional(),
  stream_timeout: nonNegative.optional(),
  max_retries: posInt.optional(),
  num_retries: posInt.optional(),
  /** Calls in flight at once to this deployment, across every isolate (router/claim-deployment.ts). */
  max_parallel_requests: posInt.optional(),
  ...PRICE_FIELDS,
  /** Containers: the price of one 1 GB code interpreter session (LiteLLM's price-map field; routes/container-objects.ts). */
  code_interpreter_cost_per_session: nonNegative.optional(),
  mock_response: str.optional(),
  tags: strList.optional(),
  region_name: str.optional(),
  aws_access_key_id: str.optional(),
  aws_secret_access_key: str.optional(),
  aws_session_token: str.optional(),
  aws_region_name: str.optional(),
  vertex_project: str.optional(),
  vertex_location: str.optional(),
  vertex_credentials: str.optional(),
  extra_headers: z.record(str, str).optional(),
  /** A budget of this deployment (LiteLLM's budget routing): once spent, the router sends its calls elsewhere. */
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
  /** This deployment's credential (and api_base) serves its provider's pass-through route (`/anthropic/...`) for any model. */
  use_in_pass_through: bool.optional(),
  /** The web search loop's ceiling for the calls this deployment answers, over `websearch_interception_params.max_agentic_loops` (worker/websearch/loop-bounds.ts). */
  max_agentic_loops: posInt.refine((n) => n >= 1, 'must be at least 1').optional(),
  /** A credential_list entry (or a /credentials one) whose values this deployment takes where it sets none (worker/config/credentials.ts). */
  litellm_credential_name: str.min(1, 'must not be empty').optional(),
});

/** `model_info`: known fields are checked, any other key is kept (LiteLLM returns them from /model/info). */
export const modelInfoSchema = z.looseObject({
  id: str.optional(),
  mode: z.enum(['chat', 'completion', 'embedding', 'image_generation', 'audio_transcription', 'audio_speech', 'rerank', 'moderation', 'batch', 'realtime', 'responses', 'video_generation', 'ocr']).optional(),
  base_model: str.optional(),
  access_groups: strList.optional(),
  max_tokens: posInt.optional(),
  max_input_tokens: posInt.optional(),
  max_output_tokens: posInt.optional(),
  ...PRICE_FIELDS,
  team_id: str.optional(),
});

export const deploymentSchema = z.object({
  model_name: str.min(1, 'must not be empty'),
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.optional(),
});
