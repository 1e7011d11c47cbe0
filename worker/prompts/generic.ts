/**
 * LiteLLM's `generic_prompt_management` integration: `GET {api_base}/beta/litellm_prompt_management
 * ?prompt_id=..&<provider_specific_query_params>` with `Authorization: Bearer <api_key>`, answered with
 * `{prompt_template: [messages], prompt_template_model?, prompt_template_optional_params?}`. Answers are
 * kept per isolate for CACHE_TTL_MS (LiteLLM keeps them for the process's life), keyed only by what the
 * request to the prompt API holds (its URL), so callers can neither grow the cache nor bypass it. Calls
 * arriving while a prompt is fetched each fetch it: a fetch belongs to its request, and workerd neither lets
 * another request await it nor finishes it once its own client has gone (see cache/response-cache.ts). A
 * prompt API that fails, redirects, answers too much or does not answer in time fails the call: it is
 * never sent without its prompt.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
import { readBoundedBytes } from '../openai/read-body.ts';
import type { PromptSpec } from './schema.ts';
import { renderBudget, substituteBraces } from './template.ts';
import type { CompiledPrompt, PromptMessage } from './types.ts';

export const CACHE_TTL_MS = 60_000;
const DEFAULT_TIMEOUT_S = 30;
/** A prompt is a few messages; an answer past this is not one, and is not read into memory. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

const answerSchema = z.looseObject({
  prompt_template: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).nullish(),
  prompt_template_model: z.string().nullish(),
  prompt_template_optional_params: z.record(z.string(), z.unknown()).nullish(),
});
type Answer = z.output<typeof answerSchema>;

/** Prompts kept per isolate: config.yaml bounds the keys already; the cap is a backstop. */
const CACHE_MAX = 256;
const cache = new BoundedTtlMap<Answer>(CACHE_MAX);

export interface PromptCall {
  promptId: string;
  version?: string;
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

async function cachedPrompt(spec: PromptSpec, fetcher: typeof fetch, now: number, beforeFetch: (() => Promise<void>) | undefined): Promise<Answer> {
  const p = spec.litellm_params;
  const key = JSON.stringify([p.api_base, spec.prompt_id, p.provider_specific_query_params ?? {}]);
  const kept = cache.get(key, now);
  if (kept) return kept;
  await beforeFetch?.();
  const answer = await fetchPrompt(spec, fetcher);
  cache.set(key, answer, CACHE_TTL_MS, now);
  return answer;
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
  const timedOut = (err: unknown) => (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
  const late = () => failed(504, 'timeout_error', `did not answer within ${timeoutS}s`);
  let res: Response;
  try {
    // A redirect is not followed: its target would get the prompt API's bearer key.
    res = await fetcher(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (err) {
    throw timedOut(err) ? late() : failed(502, 'api_connection_error', 'could not be reached');
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) throw failed(502, 'api_error', `redirected (${res.status}); redirects are not followed`);
    throw res.status === 404 ? failed(404, 'not_found_error', 'does not know this prompt (404)') : failed(502, 'api_error', `answered ${res.status}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedBytes(res, MAX_ANSWER_BYTES);
  } catch (err) {
    if (timedOut(err)) throw late();
    if (err instanceof GatewayError && err.status === 413) throw failed(502, 'api_error', `answered more than ${MAX_ANSWER_BYTES / 1024 / 1024} MB`);
    throw failed(502, 'api_connection_error', 'broke off its answer');
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw failed(502, 'api_error', 'answered with something that is not JSON');
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw failed(502, 'api_error', 'answered without a prompt_template list of {role, content} messages');
  return parsed.data;
}
