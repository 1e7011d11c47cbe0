/**
 * LiteLLM's `langfuse` prompt integration: the prompt is Langfuse's, fetched as its SDK's `get_prompt` does
 * (`GET {host}/api/public/v2/prompts/{name}?version=N` or `?label=L`, the `production` label when the call
 * names neither, Basic auth with the project's public and secret key), then compiled (langfuse-compile.ts).
 * The name is `litellm_params.prompt_id`, else the entry's own. Answers are kept per isolate for
 * CACHE_TTL_MS (the SDK's default cache TTL), Langfuse's 404 for NOT_FOUND_TTL_MS, keyed by host, keys, name
 * and version or label: callers choose only the version or label, bounded in length, and the caches are capped
 * (prompts in entries and memory, prompt-cache.ts; 404s, kept apart so made-up labels never push a prompt out,
 * in entries), so a flood of made-up labels costs at most one Langfuse GET each.
 * As generic.ts, a fetch belongs to its request, and the call's key is confirmed (`beforeFetch`) before
 * Langfuse is asked; a kept answer's refusal waits for the key check too, in the caller (call-body.ts), so
 * without a valid key a caller learns nothing of a prompt (its placeholders, its variables, which labels are kept).
 */
import { z } from 'zod';
import { badRequest, GatewayError } from '../errors.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
import { base64 } from '../search/wire.ts';
import { fetchPromptJson, malformedAnswer } from './fetch-prompt.ts';
import type { PromptCall } from './generic.ts';
import { compileLangfusePrompt, type LangfusePrompt } from './langfuse-compile.ts';
import { LANGFUSE_TIMEOUT_S } from './langfuse-credentials.ts';
import { PromptCache } from './prompt-cache.ts';
import type { PromptSpec } from './schema.ts';
import type { CompiledPrompt } from './types.ts';

export const CACHE_TTL_MS = 60_000;
/** Long enough that repeating a missing name, version or label is not a Langfuse GET per call; short enough for a label just set. */
export const NOT_FOUND_TTL_MS = 10_000;
/** Langfuse labels are short names (`production`, `staging`); a longer one is no label, and is not a cache key. */
const MAX_LABEL_CHARS = 200;
const DEFAULT_LABEL = 'production';

const chatEntry = z.union([
  z.looseObject({ type: z.literal('placeholder'), name: z.string() }),
  z.looseObject({ type: z.literal('chatmessage').optional(), role: z.string(), content: z.string() }),
]);
const answerSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text'), prompt: z.string(), config: z.unknown() }),
  z.looseObject({ type: z.literal('chat'), prompt: z.array(chatEntry), config: z.unknown() }),
]);

const CACHE_MAX = 256;
const CACHE_MAX_BYTES = 8 * 1024 * 1024;
const cache = new PromptCache<LangfusePrompt>(CACHE_MAX, CACHE_MAX_BYTES);
/** Langfuse's 404s, the oldest dropped first: enough for a few mistyped names or labels repeated. */
const NOT_FOUND_MAX = 64;
const notFound = new BoundedTtlMap<GatewayError>(NOT_FOUND_MAX);

/** Which of the prompt's versions a call asks for: `?version=N` or `?label=L`. */
type Selection = { version: string } | { label: string };

export async function compileLangfuse(
  spec: PromptSpec, call: PromptCall, fetcher: typeof fetch = fetch, now = Date.now(), beforeFetch?: () => Promise<void>,
): Promise<CompiledPrompt> {
  const p = spec.litellm_params;
  if (!p.langfuse_host || !p.langfuse_public_key || !p.langfuse_secret_key) {
    throw new GatewayError(`prompt "${call.promptId}" cannot be used: it has no Langfuse public and secret key (langfuse_public_key / langfuse_secret_key, or LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY for LANGFUSE_HOST)`, {
      status: 400, type: 'bad_request_error', param: 'prompt_id',
    });
  }
  const name = p.prompt_id ?? spec.prompt_id;
  const selection = selectionOf(call);
  // The secret is in the key: a prompt whose secret changes (a reload, another entry) is asked for again.
  const key = JSON.stringify([p.langfuse_host, p.langfuse_public_key, p.langfuse_secret_key, name, selection]);
  const kept = cache.get(key, now) ?? notFound.get(key, now);
  if (kept instanceof GatewayError) throw kept;
  if (kept) return compileLangfusePrompt(call.promptId, kept, call.variables);
  await beforeFetch?.();
  return compileLangfusePrompt(call.promptId, await fetchLangfusePrompt(spec, name, selection, key, fetcher, now), call.variables);
}

/** The SDK refuses a version and a label together; a version is a whole number. */
function selectionOf(call: PromptCall): Selection {
  if (call.version !== undefined && call.label !== undefined) throw badRequest('prompt_version and prompt_label cannot both be given for a Langfuse prompt', 'prompt_version');
  if (call.version !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(call.version)) throw badRequest('prompt_version must be a whole number (a Langfuse prompt version)', 'prompt_version');
    return { version: call.version };
  }
  if (call.label !== undefined && (!call.label || call.label.length > MAX_LABEL_CHARS)) throw badRequest(`prompt_label must be 1 to ${MAX_LABEL_CHARS} characters`, 'prompt_label');
  return { label: call.label ?? DEFAULT_LABEL };
}

/** The prompt, kept under `key`; Langfuse's 404 is kept too, for NOT_FOUND_TTL_MS. */
async function fetchLangfusePrompt(
  spec: PromptSpec, name: string, selection: Selection, key: string, fetcher: typeof fetch, now: number,
): Promise<LangfusePrompt> {
  const p = spec.litellm_params;
  const url = new URL(`${p.langfuse_host}/api/public/v2/prompts/${encodeURIComponent(name)}`);
  for (const [field, value] of Object.entries(selection)) url.searchParams.set(field, value);
  const headers = { accept: 'application/json', authorization: `Basic ${base64(`${p.langfuse_public_key}:${p.langfuse_secret_key}`)}` };
  const req = { url, headers, timeoutS: p.timeout ?? LANGFUSE_TIMEOUT_S, promptId: spec.prompt_id, store: 'Langfuse' };
  let answer: Awaited<ReturnType<typeof fetchPromptJson>>;
  try {
    answer = await fetchPromptJson(req, fetcher);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) notFound.set(key, err, NOT_FOUND_TTL_MS, now);
    throw err;
  }
  const parsed = answerSchema.safeParse(answer.json);
  if (!parsed.success) throw malformedAnswer(req, 'answered without a text or chat prompt');
  const prompt = parsed.data as LangfusePrompt;
  cache.set(key, prompt, answer.bytes, CACHE_TTL_MS, now);
  return prompt;
}
