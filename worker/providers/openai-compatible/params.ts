import { badRequest } from '../../errors.ts';
import type { Endpoint } from '../types.ts';

/** Request fields that steer the gateway (LiteLLM's extensions) and never reach a provider. */
export const GATEWAY_PARAMS: ReadonlySet<string> = new Set([
  'model', 'mock_response', 'mock_timeout', 'mock_testing_fallbacks', 'metadata', 'litellm_metadata', 'tags',
  'fallbacks', 'context_window_fallback_dict', 'num_retries', 'cache', 'caching', 'timeout', 'stream_timeout',
  'guardrails', 'no-log', 'api_key', 'api_base', 'base_url', 'api_version', 'custom_llm_provider',
  'turn_off_message_logging', 'litellm_session_id', 'litellm_trace_id',
  'prompt_id', 'prompt_variables', 'prompt_version', 'prompt_label',
]);

/** What OpenAI's API takes, per endpoint. */
export const OPENAI_PARAMS: Record<Endpoint, ReadonlySet<string>> = {
  chat: new Set([
    'messages', 'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs',
    'max_completion_tokens', 'max_tokens', 'modalities', 'n', 'parallel_tool_calls', 'prediction',
    'presence_penalty', 'prompt_cache_key', 'reasoning_effort', 'response_format', 'safety_identifier', 'seed',
    'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools',
    'top_logprobs', 'top_p', 'user', 'verbosity', 'web_search_options',
  ]),
  completion: new Set([
    'prompt', 'best_of', 'echo', 'frequency_penalty', 'logit_bias', 'logprobs', 'max_tokens', 'n',
    'presence_penalty', 'seed', 'stop', 'stream', 'stream_options', 'suffix', 'temperature', 'top_p', 'user',
  ]),
  embedding: new Set(['input', 'encoding_format', 'dimensions', 'user']),
  responses: new Set([
    'input', 'instructions', 'background', 'conversation', 'include', 'max_output_tokens', 'max_tool_calls',
    'parallel_tool_calls', 'previous_response_id', 'prompt', 'prompt_cache_key', 'reasoning', 'safety_identifier',
    'service_tier', 'store', 'stream', 'stream_options', 'temperature', 'text', 'tool_choice', 'tools',
    'top_logprobs', 'top_p', 'truncation', 'user',
  ]),
  moderation: new Set(['input']),
  image_generation: new Set([
    'prompt', 'background', 'moderation', 'n', 'output_compression', 'output_format', 'quality', 'response_format', 'size', 'style', 'user',
  ]),
  speech: new Set(['input', 'voice', 'instructions', 'response_format', 'speed', 'stream_format']),
  transcription: new Set(['file', 'language', 'prompt', 'response_format', 'temperature', 'timestamp_granularities', 'include', 'chunking_strategy']),
  image_edit: new Set([
    'image', 'mask', 'prompt', 'background', 'input_fidelity', 'n', 'output_compression', 'output_format', 'quality', 'response_format', 'size', 'user',
  ]),
  // OpenAI has no rerank API: the fields of the Cohere/Jina format vLLM serves.
  rerank: new Set(['query', 'documents', 'top_n', 'return_documents', 'max_tokens_per_doc', 'max_chunks_per_doc', 'rank_fields']),
  // OpenAI has no OCR API: the fields of Mistral's, which LiteLLM's /ocr follows.
  ocr: new Set([
    'document', 'pages', 'include_image_base64', 'image_limit', 'image_min_size', 'bbox_annotation_format', 'document_annotation_format',
    'document_annotation_prompt', 'extract_header', 'extract_footer', 'table_format', 'confidence_scores_granularity', 'include_blocks', 'id',
  ]),
};

/** vLLM's OpenAI server takes OpenAI's fields plus its sampling and guided-decoding extras. */
const VLLM_EXTRAS = [
  'top_k', 'min_p', 'repetition_penalty', 'length_penalty', 'use_beam_search', 'ignore_eos', 'min_tokens',
  'skip_special_tokens', 'spaces_between_special_tokens', 'truncate_prompt_tokens', 'include_stop_str_in_output',
  'guided_json', 'guided_regex', 'guided_choice', 'guided_grammar', 'guided_decoding_backend',
  'guided_whitespace_pattern', 'structured_outputs', 'chat_template', 'chat_template_kwargs',
  'add_generation_prompt', 'priority', 'return_tokens_as_token_ids', 'best_of',
];
export const VLLM_PARAMS: Record<Endpoint, ReadonlySet<string>> = {
  chat: new Set([...OPENAI_PARAMS.chat, ...VLLM_EXTRAS]),
  completion: new Set([...OPENAI_PARAMS.completion, ...VLLM_EXTRAS]),
  embedding: new Set([...OPENAI_PARAMS.embedding, 'truncate_prompt_tokens']),
  responses: new Set([...OPENAI_PARAMS.responses, ...VLLM_EXTRAS]),
  moderation: OPENAI_PARAMS.moderation,
  image_generation: OPENAI_PARAMS.image_generation,
  speech: OPENAI_PARAMS.speech,
  transcription: OPENAI_PARAMS.transcription,
  image_edit: OPENAI_PARAMS.image_edit,
  rerank: new Set([...OPENAI_PARAMS.rerank, 'truncate_prompt_tokens', 'user']),
  ocr: OPENAI_PARAMS.ocr,
};

/**
 * The body a provider is sent: the client's fields minus the gateway's own,
 * and minus (with `drop_params`) or refusing (without) what the provider
 * does not take. `supported` undefined means the provider takes anything.
 */
export function providerFields(
  body: Record<string, unknown>,
  supported: ReadonlySet<string> | undefined,
  dropParams: boolean,
  label: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const unsupported: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (GATEWAY_PARAMS.has(key)) continue;
    if (supported && !supported.has(key)) {
      if (!dropParams) unsupported.push(key);
      continue;
    }
    out[key] = value;
  }
  if (unsupported.length) {
    throw badRequest(
      `${label} does not support parameters: ${JSON.stringify(unsupported)}, for model=${String(body.model)}. ` +
      'To drop these, set `litellm_settings: drop_params: true` in the config.',
      unsupported[0],
    );
  }
  return out;
}

/**
 * What LiteLLM drops silently where OpenAI's API takes no such field: `user` on moderations, speech and
 * transcriptions (the gateway has read it: end user, enforce_user_param), and the `stream: false` a
 * client may send where nothing streams.
 */
const UNSENT: Partial<Record<Endpoint, readonly string[]>> = {
  moderation: ['user'], speech: ['user', 'stream'], transcription: ['user', 'stream'], image_generation: ['stream'], image_edit: ['stream'],
};
export function withoutUnsent(endpoint: Endpoint, body: Record<string, unknown>): Record<string, unknown> {
  const unsent = UNSENT[endpoint];
  if (!unsent?.some((name) => name in body)) return body;
  const out = { ...body };
  for (const name of unsent) delete out[name];
  return out;
}
