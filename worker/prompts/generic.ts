/**
 * LiteLLM's `generic_prompt_management` integration: `GET {api_base}/beta/litellm_prompt_management
 * ?prompt_id=..&<provider_specific_query_params>` with `Authorization: Bearer <api_key>`, answered with
 * `{prompt_template: [messages], prompt_template_model?, prompt_template_optional_params?}`. Answers are
 * kept per isolate for CACHE_TTL_MS (LiteLLM keeps them for the process's life), keyed only by what the
 * request to the prompt API holds (its URL), and a stored prompt's by its row too (keepAnswersApart), so
 * callers can neither grow the cache nor bypass it. Calls
 * arriving while a prompt is fetched each fetch it: a fetch belongs to its request, and workerd neither lets
 * another request await it nor finishes it once its own client has gone (see cache/response-cache.ts). A
 * prompt API that fails, redirects, answers too much or does not answer in time fails the call: it is
 * never sent without its prompt.
 */
import { z } from 'zod';
import { fetchPromptJson, malformedAnswer } from './fetch-prompt.ts';
import { PromptCache } from './prompt-cache.ts';
import type { PromptSpec } from './schema.ts';
import { renderBudget, substituteBraces } from './template.ts';
import type { CompiledPrompt, PromptMessage } from './types.ts';

export const CACHE_TTL_MS = 60_000;
const DEFAULT_TIMEOUT_S = 30;

const answerSchema = z.looseObject({
  prompt_template: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).nullish(),
  prompt_template_model: z.string().nullish(),
  prompt_template_optional_params: z.record(z.string(), z.unknown()).nullish(),
});
type Answer = z.output<typeof answerSchema>;

/** Prompts kept per isolate: config.yaml bounds the keys already; the caps are a backstop. */
const CACHE_MAX = 256;
const CACHE_MAX_BYTES = 8 * 1024 * 1024;
const cache = new PromptCache<Answer>(CACHE_MAX, CACHE_MAX_BYTES);

export interface PromptCall {
  promptId: string;
  version?: string;
  label?: string;
  variables: Record<string, unknown>;
}

/**
 * The prompt's messages for `call`. `beforeFetch` runs only when the prompt API is to be asked (no answer
 * kept): the call's key is confirmed there, so an unknown or refused key makes no request to it.
 */
export async function compileGenericPrompt(
  spec: PromptSpec, call: PromptCall, fetcher: typeof fetch = fetch, now = Date.now(), beforeFetch?: () => Promise<void>,
): Promise<CompiledPrompt> {
  const answer = await cachedPrompt(spec, fetcher, now, beforeFetch);
  const budget = renderBudget(call.promptId);
  const messages = (answer.prompt_template ?? []).map((m): PromptMessage => (
    typeof m.content === 'string' ? { ...m, content: substituteBraces(m.content, call.variables, budget) } : { ...m }
  ));
  return { messages, ...(answer.prompt_template_model ? { model: answer.prompt_template_model } : {}), params: { ...answer.prompt_template_optional_params } };
}

/**
 * Specs whose answers are kept apart from any other spec's: a stored prompt's (stored.ts), opened anew for each
 * version and each change of a row, so a new version, or a new api_key or timeout, asks the prompt API again
 * rather than reuse what another version was answered.
 */
const keptApart = new WeakMap<PromptSpec, number>();
let apartCount = 0;

/** Marks `spec`'s answers as its own (see keptApart); returns it. */
export function keepAnswersApart(spec: PromptSpec): PromptSpec {
  keptApart.set(spec, ++apartCount);
  return spec;
}

async function cachedPrompt(spec: PromptSpec, fetcher: typeof fetch, now: number, beforeFetch: (() => Promise<void>) | undefined): Promise<Answer> {
  const p = spec.litellm_params;
  const key = JSON.stringify([p.api_base, spec.prompt_id, p.provider_specific_query_params ?? {}, keptApart.get(spec) ?? null]);
  const kept = cache.get(key, now);
  if (kept) return kept;
  await beforeFetch?.();
  const { answer, bytes } = await fetchPrompt(spec, fetcher);
  cache.set(key, answer, bytes, CACHE_TTL_MS, now);
  return answer;
}

async function fetchPrompt(spec: PromptSpec, fetcher: typeof fetch): Promise<{ answer: Answer; bytes: number }> {
  const p = spec.litellm_params;
  const url = new URL(`${p.api_base!.replace(/\/+$/, '')}/beta/litellm_prompt_management`);
  url.searchParams.set('prompt_id', spec.prompt_id);
  for (const [name, value] of Object.entries(p.provider_specific_query_params ?? {})) url.searchParams.set(name, String(value));
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (p.api_key) headers.authorization = `Bearer ${p.api_key}`;
  const req = { url, headers, timeoutS: p.timeout ?? DEFAULT_TIMEOUT_S, promptId: spec.prompt_id, store: 'the prompt API' };
  const { json, bytes } = await fetchPromptJson(req, fetcher);
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw malformedAnswer(req, 'answered without a prompt_template list of {role, content} messages');
  return { answer: parsed.data, bytes };
}
