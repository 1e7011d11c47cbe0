import { chatToolCalls, keptAnswer, responsesToolCalls } from '../answer-tool-calls.ts';
import { showContainerIds } from '../container-ids.ts';
import { fileSearchRewriter } from '../file-search-ids.ts';
import type { CallOutcome, ProviderAnswer, ProviderCall } from '../types.ts';
import { readOpenAIUsage } from './usage.ts';
import { producedContents } from '../../router/encrypted-affinity.ts';

// What an OpenAI-wire answer that is not a stream comes to: its usage (and kept text and tool calls), read from its bytes.

const decoder = new TextDecoder();

/** A Responses API answer: its usage, text and tool calls read from the whole of it, and its id the one the client is to see. */
export function responsesAnswer(bytes: ArrayBuffer, call: ProviderCall, clientId: (id: string) => string): Pick<ProviderAnswer, 'body' | 'outcome'> {
  const text = decoder.decode(bytes);
  let parsed: { id?: unknown; previous_response_id?: unknown; usage?: unknown; output?: unknown; status?: unknown } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a 200 that is not JSON: passed on, counted as unknown usage
  }
  const outcome = responsesOutcome(parsed, call);
  if (!parsed || typeof parsed.id !== 'string') return { body: bytes, outcome: Promise.resolve(outcome) };
  parsed.id = clientId(parsed.id);
  if (typeof parsed.previous_response_id === 'string') parsed.previous_response_id = clientId(parsed.previous_response_id);
  if (call.fileSearch) fileSearchRewriter(call.fileSearch).response(parsed);
  if (call.containerIds) showContainerIds(parsed, call.containerIds);
  return { body: JSON.stringify(parsed), outcome: Promise.resolve(outcome) };
}

/**
 * What a Responses API answer used: its usage (else the prompt as estimated), its text, and its tool calls where the call keeps text. A background
 * response the request asked for, still running, has used nothing yet: it is billed once it is over
 * (jobs/later-work.ts).
 */
function responsesOutcome(parsed: { id?: unknown; usage?: unknown; output?: unknown; status?: unknown } | undefined, call: ProviderCall): CallOutcome {
  if (call.body.background === true && typeof parsed?.id === 'string' && (parsed.status === 'queued' || parsed.status === 'in_progress')) {
    return { usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: Date.now(), backgroundId: parsed.id };
  }
  const estimate = { promptTokens: call.promptTokenEstimate, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
  const answer = responsesOutputText(parsed?.output);
  // Pinned before the answer is handed over, so a follow-up replaying its items finds the pin.
  if (call.encryptedItems) {
    const produced = producedContents(parsed?.output);
    if (produced) call.encryptedItems(produced);
  }
  return {
    usage: readOpenAIUsage(parsed?.usage) ?? estimate,
    finishedAt: Date.now(),
    ...(typeof answer === 'string' ? { responseText: answer } : {}),
    ...(call.keepText ? keptAnswer(undefined, responsesToolCalls(parsed?.output)) : {}),
  };
}

/** OpenAI puts `usage` at the end of an answer: its last bytes are usually all that need decoding. */
const TAIL_BYTES = 2048;

export function jsonOutcome(bytes: ArrayBuffer, call: ProviderCall): CallOutcome {
  // A moderation is free and its answer has no usage: no tokens are charged.
  if (call.endpoint === 'moderation') return { usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: Date.now() };
  if (call.endpoint === 'rerank') {
    // Tokens where the server reports them (vLLM, Jina), and the searches Cohere bills (one a request where it does not say).
    let parsed: { usage?: { total_tokens?: unknown } | null; meta?: { billed_units?: { search_units?: unknown } | null } | null } = {};
    try {
      parsed = JSON.parse(decoder.decode(bytes)) as typeof parsed;
    } catch {
      // a 200 that is not JSON: one search, no tokens
    }
    const tokens = typeof parsed.usage?.total_tokens === 'number' ? parsed.usage.total_tokens : 0;
    const units = parsed.meta?.billed_units?.search_units;
    return { usage: { promptTokens: tokens, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true, searches: typeof units === 'number' ? units : 1 }, finishedAt: Date.now() };
  }
  if (call.endpoint === 'image_generation' || call.endpoint === 'image_edit') {
    // Priced per image (as many as asked for), plus tokens where the model reports them (gpt-image-1); the images are most of the answer.
    const view = new Uint8Array(bytes);
    const tokens = readOpenAIUsage(usageObject(decoder.decode(view.length > TAIL_BYTES ? view.subarray(view.length - TAIL_BYTES) : view)) as never);
    // What an image model makes is images: its output tokens are image tokens unless it says otherwise (as LiteLLM prices gpt-image-1).
    if (tokens && tokens.imageCompletionTokens === undefined && tokens.completionTokens) tokens.imageCompletionTokens = tokens.completionTokens;
    const images = typeof call.body.n === 'number' ? call.body.n : 1;
    return { usage: { ...(tokens ?? { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }), images }, finishedAt: Date.now() };
  }
  const estimate = { promptTokens: call.promptTokenEstimate, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
  if (!call.keepText) {
    const view = new Uint8Array(bytes);
    let usage = view.length > TAIL_BYTES ? usageObject(decoder.decode(view.subarray(view.length - TAIL_BYTES))) : undefined;
    usage ??= usageObject(decoder.decode(view));
    return { usage: readOpenAIUsage(usage) ?? estimate, finishedAt: Date.now() };
  }
  const text = decoder.decode(bytes);
  let parsed: { usage?: unknown; choices?: { message?: { content?: unknown }; text?: unknown; finish_reason?: unknown }[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a 200 that is not JSON: counted as unknown usage
  }
  const first = parsed.choices?.[0];
  const answer = first?.message?.content ?? first?.text;
  return {
    usage: readOpenAIUsage(parsed.usage) ?? estimate,
    finishedAt: Date.now(),
    ...keptAnswer(typeof answer === 'string' ? answer : undefined, chatToolCalls(first?.message), first?.message),
    ...(typeof first?.finish_reason === 'string' && first.finish_reason ? { finishReason: first.finish_reason } : {}),
  };
}

/** A Responses API answer's text: its `output_text` parts, joined (the SDKs' `output_text`); undefined without any. */
export function responsesOutputText(output: unknown): string | undefined {
  if (!Array.isArray(output)) return undefined;
  const parts: string[] = [];
  for (const item of output as { type?: unknown; content?: unknown }[]) {
    if (item?.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content as { type?: unknown; text?: unknown }[]) {
      if (part?.type === 'output_text' && typeof part.text === 'string') parts.push(part.text);
    }
  }
  return parts.length ? parts.join('') : undefined;
}

/**
 * The `usage` object of an OpenAI answer, read from its text without parsing
 * the whole answer (a long completion is most of it). In the compact JSON
 * providers send, an unescaped `"usage":` can only be a key; the object holds
 * numbers and nested objects, never strings with braces.
 */
export function usageObject(text: string): unknown {
  const key = text.lastIndexOf('"usage"');
  if (key < 0) return undefined;
  const open = text.indexOf('{', key);
  if (open < 0 || text.slice(key + 7, open).trim() !== ':') return undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 123) depth++;
    else if (ch === 125 && --depth === 0) {
      try {
        return JSON.parse(text.slice(open, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
