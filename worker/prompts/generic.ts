/**
 * LiteLLM's `generic_prompt_management` integration: `GET {api_base}/beta/litellm_prompt_management
 * ?prompt_id=..&<provider_specific_query_params>` with `Authorization: Bearer <api_key>`, answered with
 * `{prompt_template: [messages], prompt_template_model?, prompt_template_optional_params?}`. Answers are
 * kept per isolate for CACHE_TTL_MS (LiteLLM keeps them for the process's life), keyed only by what the
 * request to the prompt API holds (its URL), so callers can neither grow the cache nor bypass it; calls
 * arriving while a prompt is fetched wait for that one fetch. A prompt API that fails or does not answer
 * in time fails the call: it is never sent without its prompt.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
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

/** Prompts kept per isolate: config.yaml bounds the keys already; the cap is a backstop. */
const CACHE_MAX = 256;
const cache = new BoundedTtlMap<Answer>(CACHE_MAX);
const inFlight = new Map<string, Promise<Answer>>();

export interface PromptCall {
  promptId: string;
  version?: string;
  variables: Record<string, unknown>;
}

export async function compileGenericPrompt(spec: PromptSpec, call: PromptCall, fetcher: typeof fetch = fetch, now = Date.now()): Promise<CompiledPrompt> {
  const answer = await cachedPrompt(spec, fetcher, now);
  const budget = renderBudget(call.promptId);
  const messages = (answer.prompt_template ?? []).map((m): PromptMessage => (
    typeof m.content === 'string' ? { ...m, content: substituteBraces(m.content, call.variables, budget) } : { ...m }
  ));
  return { messages, ...(answer.prompt_template_model ? { model: answer.prompt_template_model } : {}), params: { ...answer.prompt_template_optional_params } };
}

async function cachedPrompt(spec: PromptSpec, fetcher: typeof fetch, now: number): Promise<Answer> {
  const p = spec.litellm_params;
  const key = JSON.stringify([p.api_base, spec.prompt_id, p.provider_specific_query_params ?? {}]);
  const kept = cache.get(key, now);
  if (kept) return kept;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fetchPrompt(spec, fetcher).then((answer) => {
      cache.set(key, answer, CACHE_TTL_MS, now);
      return answer;
    }).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function fetchPrompt(spec: PromptSpec, fetcher: typeof fetch): Promise<Answer> {
  const p = spec.litellm_params;
  const promptId = spec.prompt_id;
  const url = new URL(`${p.api_base!.replace(/\/+$/, '')}/beta/litellm_prompt_management`);
  url.searchParams.set('prompt_id', promptId);
  for (const [name, value] of Object.entries(p.provider_specific_query_params ?? {})) url.searchParams.set(name, String(value));
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (p.api_key) headers.authorization = `Bearer ${p.api_key}`;
  const timeoutS = p.timeout ?? DEFAULT_TIMEOUT_S;
  const failed = (status: number, type: string, why: string) => new GatewayError(`prompt "${promptId}": the prompt API ${why}`, { status, type, param: 'prompt_id' });
  let res: Response;
  try {
    res = await fetcher(url, { headers, signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
    throw timedOut ? failed(504, 'timeout_error', `did not answer within ${timeoutS}s`) : failed(502, 'api_connection_error', 'could not be reached');
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw res.status === 404 ? failed(404, 'not_found_error', 'does not know this prompt (404)') : failed(502, 'api_error', `answered ${res.status}`);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw failed(502, 'api_error', 'answered with something that is not JSON');
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw failed(502, 'api_error', 'answered without a prompt_template list of {role, content} messages');
  return parsed.data;
}
