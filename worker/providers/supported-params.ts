/**
 * Which of OpenAI's chat params a deployment's adapter really serves: sends on, or translates into its
 * provider's own request. What an adapter refuses, or takes only to drop, is not among them.
 */
import type { DeploymentRef } from '../models/deployments.ts';
import { ANTHROPIC_CHAT_PARAMS } from './anthropic/convert-request.ts';
import { CONVERSE_PARAMS } from './bedrock/converse-request.ts';
import { GEMINI_PARAMS } from './google/gemini-request.ts';
import { hostedOpenAICompatible } from './openai-compatible/hosted.ts';
import { OPENAI_PARAMS, VLLM_PARAMS } from './openai-compatible/params.ts';
import { PROVIDERS } from './registry.ts';
import { isClaude } from './vertex_ai/anthropic.ts';

/** OpenAI's chat params; `messages` is the call itself, not a param. */
const OPENAI_CHAT: readonly string[] = [...OPENAI_PARAMS.chat].filter((name) => name !== 'messages');

/** Adapters that pass every field of the body on, as OpenAI-wire servers take them (their `supported` is undefined). */
const PASS_EVERYTHING: ReadonlySet<string> = new Set(['openai_compatible', 'litellm_proxy', ...hostedOpenAICompatible.map((a) => a.id)]);

/** `user` reaches Anthropic as `metadata.user_id`; Converse and Gemini take it (the gateway reads it) but send it nowhere. */
const without = (fields: ReadonlySet<string>, dropped: readonly string[]) => new Set([...fields].filter((f) => !dropped.includes(f)));
const CONVERSE_SENT = without(CONVERSE_PARAMS, ['user']);
const GEMINI_SENT = without(GEMINI_PARAMS, ['user']);
/** Anthropic's `service_tier` values are its own: OpenAI's (`default`, `flex`, `priority`) are refused. */
const ANTHROPIC_SENT = without(ANTHROPIC_CHAT_PARAMS, ['service_tier']);
/** The mock answers from config whatever the sampling params say: only streaming changes its answer. */
const MOCK_SENT: ReadonlySet<string> = new Set(['stream', 'stream_options']);

/**
 * OpenAI's reasoning models refuse sampling params its chat models take; these lists are LiteLLM's
 * (`OpenAIOSeriesConfig`, `OpenAIGPT5Config`). `temperature` stays on both, as in LiteLLM: 1 is taken.
 */
const O_SERIES_SENT = without(OPENAI_PARAMS.chat, ['logprobs', 'top_p', 'presence_penalty', 'frequency_penalty', 'top_logprobs']);
// LiteLLM keeps logprobs, top_p and top_logprobs for the gpt-5.x models whose price-map entry says they
// take `reasoning_effort: "none"`, and then only with it; the bundled table has no such flag, so they go for all.
const GPT_5_SENT = without(OPENAI_PARAMS.chat, [
  'presence_penalty', 'frequency_penalty', 'stop', 'logit_bias', 'modalities', 'prediction', 'audio', 'web_search_options',
  'logprobs', 'top_p', 'top_logprobs',
]);
/** gpt-5's search models take only these (LiteLLM's list, less its client options). */
const GPT_5_SEARCH_SENT: ReadonlySet<string> = new Set([
  'max_tokens', 'max_completion_tokens', 'stream', 'stream_options', 'web_search_options', 'service_tier', 'safety_identifier',
  'response_format', 'user', 'store', 'verbosity',
]);

/**
 * The chat fields of OpenAI's model behind an OpenAI or Azure deployment, told by name as LiteLLM tells
 * them: its `base_model` (an Azure deployment's own name says nothing), else the model, less any route
 * prefix. o1, o3 and o4 are the o-series; anything naming gpt-5 but `gpt-5-chat*` (a chat model) is gpt-5's.
 */
function openAIChatFields(d: DeploymentRef): ReadonlySet<string> {
  const name = (d.info.base_model ?? d.model).split('/').pop() ?? '';
  if (/^o[134](-|$)/.test(name)) return O_SERIES_SENT;
  if (name.includes('gpt-5') && !name.includes('gpt-5-chat')) return name.includes('search') ? GPT_5_SEARCH_SENT : GPT_5_SENT;
  return OPENAI_PARAMS.chat;
}

/** The chat fields a deployment's adapter serves; undefined for one that passes every field on. */
function chatFields(d: DeploymentRef): ReadonlySet<string> | undefined {
  switch (d.provider) {
    case 'openai':
    case 'azure':
      return openAIChatFields(d);
    case 'text-completion-openai':
      return OPENAI_PARAMS.chat;
    case 'hosted_vllm':
    case 'vllm':
      return VLLM_PARAMS.chat;
    case 'anthropic':
      return ANTHROPIC_SENT;
    case 'bedrock':
      return CONVERSE_SENT;
    case 'gemini':
      return GEMINI_SENT;
    case 'vertex_ai':
      return isClaude(d.model) ? ANTHROPIC_SENT : GEMINI_SENT;
    case 'mock':
      return MOCK_SENT;
    default:
      return PASS_EVERYTHING.has(d.provider) ? undefined : new Set();
  }
}

/**
 * LiteLLM's `supported_openai_params` for chat calls to a model group: the OpenAI params every one of its
 * deployments serves (a call may be routed to any of them). A deployment whose provider
 * has no chat (Cohere's rerank) serves none.
 */
export function supportedOpenAIParams(deployments: readonly DeploymentRef[]): string[] {
  let params = OPENAI_CHAT;
  for (const d of deployments) {
    if (!PROVIDERS.get(d.provider)?.endpoints.has('chat')) return [];
    const fields = chatFields(d);
    if (fields) params = params.filter((name) => fields.has(name));
  }
  return deployments.length ? [...params] : [];
}
