import type { FileSearchIds } from './file-search-ids.ts';
import type { ResponseIdOwner } from './response-ids.ts';
import type { ProviderId } from '../config/providers.ts';
import type { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';

export type Endpoint = 'chat' | 'completion' | 'embedding' | 'responses' | 'moderation' | 'image_generation' | 'speech' | 'transcription' | 'image_edit' | 'rerank' | 'ocr';

/** What a call went to: one of the gateway's endpoints, a provider's own API passed through as it is (passthrough/), or a Realtime session (realtime/). */
export type CallEndpoint = Endpoint | 'pass_through' | 'realtime' | 'mcp' | 'search' | 'a2a' | 'interaction';

/**
 * A Responses API request's own `metadata` (the provider stores it with the response), kept under this
 * key of the body the gateway reads, where `metadata` is the gateway's (`litellm_metadata` on that API,
 * as in LiteLLM). A symbol: JSON and Object.entries never see it, so it reaches only the adapter.
 */
export const PROVIDER_METADATA = Symbol('provider metadata');

/** Token counts of one call. `reported` is false when they were estimated (a stream cut short). */
export interface UsageReport {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the provider's prompt cache (part of promptTokens). */
  cachedPromptTokens: number;
  /** Tokens written to the provider's prompt cache (Anthropic). */
  cacheCreationTokens: number;
  /** Image tokens among promptTokens and among completionTokens (priced at `input/output_cost_per_image_token`). */
  imagePromptTokens?: number;
  imageCompletionTokens?: number;
  /** Uncached audio tokens among promptTokens and audio tokens among completionTokens (realtime; priced at `input/output_cost_per_audio_token`). */
  audioPromptTokens?: number;
  audioCompletionTokens?: number;
  /** Images generated (priced per image: `output_cost_per_image`). */
  images?: number;
  /** Characters spoken (text to speech, priced per character: `input_cost_per_character`). */
  characters?: number;
  /** Seconds of audio transcribed (priced per second: `input_cost_per_second`). */
  seconds?: number;
  /** Reasoning tokens among completionTokens, where the provider said (`completion_tokens_details.reasoning_tokens`): a stored stream's answer carries them. */
  reasoningTokens?: number;
  /** Rerank searches (Cohere's search units; priced per query: `input_cost_per_query`). */
  searches?: number;
  /** Pages an OCR call processed (its `usage_info.pages_processed`; priced per page: `ocr_cost_per_page`). */
  pages?: number;
  reported: boolean;
}

/** A tool call an answer made, in OpenAI's chat shape (`arguments` the JSON text the model wrote, as it wrote it). */
export interface AnswerToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A Claude answer's thinking block as LiteLLM's chat answer carries it (`thinking_blocks`): signed thinking, or redacted. */
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

/**
 * A streamed answer's first choice's reasoning, under the fields the client got it in: `reasoning_content`
 * (DeepSeek, vLLM, the gateway's Claude, Bedrock and Gemini translations), `reasoning` (OpenRouter, newer vLLM), and
 * a Claude answer's `thinking_blocks`, each block whole with its signature.
 */
export interface AnswerReasoning {
  reasoning_content?: string;
  reasoning?: string;
  thinking_blocks?: ThinkingBlock[];
}

/** What a stream's chunks named their answer (`id`, `created`, `model`). */
export interface StreamedAs {
  id: string;
  created: number;
  model: string;
}

/** How a call ended, known once the client has the whole body (or stopped reading it). */
export interface CallOutcome {
  usage: UsageReport;
  /** When the first chunk arrived (streams), ms since the epoch. */
  firstChunkAt?: number;
  finishedAt: number;
  /** The stream broke after it started; the client got an error event. */
  error?: GatewayError;
  /** The client went away before the end. */
  aborted?: boolean;
  /** The answer's content, kept only when asked for (spend logs that store responses, the response cache). */
  responseText?: string;
  /** The streamed answer carried tool calls (its kept text is then not the whole answer). */
  toolCalls?: boolean;
  /**
   * The answer's tool calls, kept with its text (`responseText`) and under the same rule: chat's `tool_calls` (a
   * stream's deltas joined), the Responses API's `function_call` items, a translated provider's tool use; in order.
   */
  responseToolCalls?: AnswerToolCall[];
  /**
   * The first choice's reasoning, kept with the text (kept-reasoning.ts): a stream's joined within the cap (what a
   * cache stores beside it, unless `partsLeftOut`; the logs show it either way), a plain chat answer's
   * `reasoning_content` / `reasoning` (what the logs show of it).
   */
  responseReasoning?: AnswerReasoning;
  /** The kept tool calls leave out part of the answer's (answer-tool-calls.ts's caps, a custom tool's call): not the whole answer. */
  toolCallsCut?: boolean;
  /**
   * A stream's first choice's finish reason as the client got it, where one came; kept with the text (a stream
   * without one ended early, and no cache stores it).
   */
  finishReason?: string;
  /**
   * The stream carried what its kept answer leaves out, so no cache stores it: a choice past the first, a refusal,
   * or reasoning not kept whole (past the cap, OpenRouter's `reasoning_details`, Claude thinking without its signature,
   * which must go back with the tool results). Kept-text calls only.
   */
  partsLeftOut?: boolean;
  /** The id, `created` and model the stream's chunks carried, so a stored answer is the one the client got; kept-text calls only. */
  streamedAs?: StreamedAs;
  /** A background response still running: the provider's id, billed once it is over (jobs/later-work.ts). */
  backgroundId?: string;
}

/** Takes the encrypted contents an answer produced (`encrypted_content_affinity` pins them to its deployment). */
export type EncryptedItemsSink = (contents: string[]) => void;

export interface ProviderCall {
  endpoint: Endpoint;
  deployment: DeploymentRef;
  /** The validated client body (`model` is the model group; adapters send their own). */
  body: Record<string, unknown>;
  stream: boolean;
  /** The client asked for usage in the stream (`stream_options.include_usage`). */
  clientWantsUsage: boolean;
  dropParams: boolean;
  /** Worker env, for credentials the deployment does not name. */
  env: Record<string, unknown>;
  timeoutMs: number;
  /** Estimated prompt tokens, used when a stream ends before the provider reports usage. */
  promptTokenEstimate: number;
  keepText: boolean;
  /**
   * Given a Responses API answer's reasoning items' `encrypted_content` as soon as the answer has them (a stream's
   * before its `response.completed` is passed on): set only where the group pins them (router/encrypted-affinity.ts).
   */
  encryptedItems?: EncryptedItemsSink;
  /** The client's request headers, for the few a provider passes on (Anthropic's `anthropic-beta`); never its credentials. */
  headers?: RequestHeaders;
  /**
   * The client's headers the config has passed on to the provider (`forward_client_headers_to_llm_api`,
   * `forward_openai_org_id`), beneath the provider's own (its credentials, extra_headers, content type win).
   */
  forwarded?: Readonly<Record<string, string>>;
  /** The Responses API: who the response belongs to, written (signed) into the id the client gets (response-ids.ts). */
  responseOwner?: ResponseIdOwner;
  /** The Responses API with `file_search` over the caller's vector stores: how the answer names stores and files (file-search-ids.ts). */
  fileSearch?: FileSearchIds;
  /** The Responses API naming the caller's code interpreter containers: the provider's id → the client's (container-ids.ts). */
  containerIds?: ReadonlyMap<string, string>;
}

export interface ProviderAnswer {
  status: number;
  contentType: string;
  /** A JSON answer (text or bytes), or an SSE stream already in OpenAI's chunk format. */
  body: string | ArrayBuffer | ReadableStream<Uint8Array>;
  /** Settles when the body has been delivered or cut short. Never rejects. */
  outcome: Promise<CallOutcome>;
  /** The upstream base URL without query (`x-litellm-model-api-base`). */
  apiBase: string;
  /** Usage known before the body is read (speech: priced by the text it speaks), for the answer's cost header on a streamed body. */
  usage?: UsageReport;
  /** The provider's own response headers: its x-ratelimit-* are passed on where no limit of the gateway's applies. */
  providerHeaders?: Headers;
}

/** One provider: where to send, how to translate, how to read usage and errors. Throws GatewayError before the body. */
export interface ProviderAdapter {
  id: ProviderId;
  endpoints: ReadonlySet<Endpoint>;
  call(call: ProviderCall): Promise<ProviderAnswer>;
  /**
   * A response the provider stored (the Responses API's GET, DELETE, input_items and cancel), for providers that
   * keep them. Its answer as the provider gave it; a refusal throws GatewayError as a call's does.
   */
  storedResponse?(request: StoredResponseRequest): Promise<Response>;
  /** The provider's Files and Batch APIs (`files`, `files/{id}/content`, `batches/{id}/cancel`, ...), where it has them. */
  objectRequest?(request: ObjectRequest): Promise<Response>;
  /**
   * The request `call` would send, built by the same code, sent nowhere (LiteLLM's `/utils/transform_request`):
   * nothing is signed and no token fetched. Its credentials are as the provider would get them (or a placeholder
   * for a signature or token made at send time), so the caller must mask `secrets` before showing it.
   * Undefined, or a GatewayError thrown, for an endpoint the adapter cannot describe as one JSON request.
   */
  outgoing?(call: ProviderCall): OutgoingRequest;
}

/** One provider request as an adapter builds it (ProviderAdapter.outgoing). */
export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
  /** The JSON body. */
  body: unknown;
  /** The credentials inside url and headers. */
  secrets: (string | undefined)[];
  /** Headers holding a placeholder for what is made at send time (a signature, a fresh token), not a credential. */
  placeholders?: string[];
}

/** The `authorization` of a request whose access token is fetched when it is sent (Vertex AI). */
export const TOKEN_AT_SEND = 'Bearer <access token, fetched when sent>';

export interface ObjectRequest {
  deployment: DeploymentRef;
  env: Record<string, unknown>;
  method: 'GET' | 'DELETE' | 'POST';
  /** Below the API's base, ids already encoded: `files`, `batches/{id}/cancel`. */
  path: string;
  query: [string, string][];
  /** JSON text, a form, or a body passed through as it arrives with its `contentType`. */
  body?: FormData | string | ReadableStream<Uint8Array>;
  contentType?: string;
  /** Headers an API asks for beside the provider's own (OpenAI's `OpenAI-Beta` on vector stores). */
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface StoredResponseRequest {
  deployment: DeploymentRef;
  env: Record<string, unknown>;
  method: 'GET' | 'DELETE' | 'POST';
  /** The provider's own id of the response. */
  responseId: string;
  /** After the id: '' for the response itself, '/input_items', '/cancel'. */
  suffix: '' | '/input_items' | '/cancel';
  /** The client's query (input_items' `limit`, `after`, `order`, `include`). */
  query: [string, string][];
  timeoutMs: number;
}

/** Read access to a request's headers (lower-case names), as providers and telemetry get them: without credentials. */
export interface RequestHeaders {
  get(name: string): string | null;
  forEach(each: (value: string, name: string) => void): void;
}
