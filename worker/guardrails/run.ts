import type { Caller } from '../auth/authenticate.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { type GuardrailConfig, type GuardrailMode, modesOf } from './schema.ts';
import { unmaskPii } from './presidio.ts';
import { SERVICES, type Verdict } from './services.ts';
import { answerTexts, keptText, requestTexts, type TextSlot, unreadableField } from './texts.ts';
import { isObject } from '../json.ts';
import { answerToolCalls } from '../providers/answer-tool-calls.ts';
import type { AnswerToolCall, Endpoint } from '../providers/types.ts';
import { wordsFollower } from './words.ts';
import { answerInPlace, GuardrailAnswer } from './guard-answer.ts';
import { answerable } from './guard-reply.ts';

/** Names a list of guardrails gives: plain names, or `{name: {...}}` entries (LiteLLM's dynamic form). */
function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((g) => (typeof g === 'string' ? [g] : isObject(g) ? Object.keys(g) : []));
}

/**
 * The guardrails a call asks for, by name; `withoutDefaults` when its key has `disable_global_guardrails`, so the
 * `default_on` ones run only where named (LiteLLM's should_run_guardrail: the flag skips a default_on guardrail's
 * own branch, and the one for named guardrails still runs it).
 */
export type RequestedGuardrails = Set<string> & { withoutDefaults?: true };

/** Whether a guardrail runs for the call by itself being on (`default_on`), its key not opted out of those. */
const onByDefault = (g: GuardrailConfig, requested: RequestedGuardrails) => g.litellm_params.default_on === true && requested.withoutDefaults !== true;

/**
 * The guardrails a call asks for, by name: the request's `guardrails` (or its `metadata`'s or
 * `litellm_metadata`'s), and those its key's and team's metadata name (`/key/generate`'s `guardrails`).
 */
export function requestedGuardrails(body: Record<string, unknown>, caller: Caller, clientBody?: Record<string, unknown>): RequestedGuardrails {
  const metadata = isObject(body.metadata) ? body.metadata : {};
  const ours = isObject(body.litellm_metadata) ? body.litellm_metadata : {};
  // A translated request (/v1/messages): the client's own `metadata.guardrails`, which the translation does not carry.
  const client = clientBody && clientBody !== body && isObject(clientBody.metadata) ? clientBody.metadata : {};
  const policy = caller.kind === 'key' ? caller.policy : undefined;
  const requested: RequestedGuardrails = new Set([
    ...names(body.guardrails), ...names(metadata.guardrails), ...names(ours.guardrails), ...names(client.guardrails),
    ...names(policy?.metadata.guardrails), ...names(policy?.team?.metadata.guardrails),
  ]);
  if (policy?.disableGlobalGuardrails) requested.withoutDefaults = true;
  return requested;
}

/**
 * Refuses a caller whose calls guardrails must check (a `default_on` one, or one its key's or team's metadata
 * names) on a route no guardrail reads (a provider's own API passed through, Google's format, Realtime):
 * those routes would let it past them. The master key is not held.
 */
export function refuseUnguardedRoute(all: readonly GuardrailConfig[] | undefined, caller: Caller, route: string): void {
  if (!all?.length || caller.kind === 'master') return;
  const bound = requestedGuardrails({}, caller);
  const holding = all.filter((g) => modesOf(g).some((m) => m !== 'logging_only') && (onByDefault(g, bound) || bound.has(g.guardrail_name)));
  if (!holding.length) return;
  throw new GatewayError(`Guardrails (${holding.map((g) => g.guardrail_name).join(', ')}) check this key's calls, and ${route} is not checked by guardrails: call the gateway's own routes (/v1/chat/completions, /v1/messages, /v1/responses)`, {
    status: 403, type: 'guardrail_violation',
  });
}

/** The guardrails that run at this point of a call: `default_on` ones (unless its key opted out of them), and those the call asks for. */
export function guardrailsFor(all: readonly GuardrailConfig[], modes: readonly GuardrailMode[], requested: RequestedGuardrails): GuardrailConfig[] {
  return all.filter((g) => modesOf(g).some((m) => modes.includes(m)) && (onByDefault(g, requested) || requested.has(g.guardrail_name)));
}

/**
 * Runs guardrails over texts (exported for a held stream's, answer-check.ts), one after another (a masking one's texts are what the next sees): a block
 * throws LiteLLM's 400 (a GuardrailAnswer where it answers instead); a mask rewrites the texts in place. Returns the names of those that ran.
 */
export async function run(
  guardrails: GuardrailConfig[], texts: TextSlot[], source: 'INPUT' | 'OUTPUT', env: Record<string, unknown>, callId: string, before: readonly string[] = [], piiTokens?: Map<string, string>,
): Promise<string[]> {
  const ran: string[] = [];
  const named = (extra: string[]) => ({ 'x-litellm-applied-guardrails': [...before, ...ran, ...extra].join(',') });
  for (const g of guardrails) {
    if (!texts.length) break;
    let verdict: Verdict;
    try {
      verdict = await SERVICES[g.litellm_params.guardrail](g, { source, texts, env, callId, ...(piiTokens ? { piiTokens } : {}) });
    } catch (err) {
      if (err instanceof GatewayError) throw new GatewayError(err.message, { status: err.status, type: err.type, headers: named([g.guardrail_name]) });
      throw err;
    }
    ran.push(g.guardrail_name);
    if (verdict.action === 'block') throw new GatewayError(verdict.message, { status: 400, type: 'guardrail_violation', headers: named([]) });
    // Answered by the guardrail's text (disable_exception_on_block): the guardrails after it do not run.
    if (verdict.action === 'answer') throw new GuardrailAnswer(verdict.text, verdict.message, [...ran], named([]));
    if (verdict.action === 'mask') verdict.texts.forEach((text, i) => texts[i]?.set(text));
  }
  return ran;
}

/** What the request's guardrails did: which ran, and the text one answered the call with instead of refusing it. */
export interface RequestGuarded { ran: string[]; answer?: string }

/**
 * The request's guardrails (`pre_call`; `during_call` runs there too, before the provider is called), over its texts.
 * `piiTokens` collects what a Presidio guardrail with `output_parse_pii` replaced, for the answer's unmasking.
 */
export function guardRequest(
  guardrails: GuardrailConfig[], body: Record<string, unknown>, endpoint: Endpoint, env: Record<string, unknown>, callId: string, piiTokens?: Map<string, string>,
): Promise<RequestGuarded> {
  if (!guardrails.length) return Promise.resolve({ ran: [] });
  const names = guardrails.map((g) => g.guardrail_name).join(', ');
  const unreadable = unreadableField(body);
  if (unreadable) return Promise.reject(badRequest(`The ${unreadable} is token ids, which guardrails (${names}) cannot read: send it as text`, unreadable));
  // Only a chat's messages are read: elsewhere a `messages` field (which a bridge or a provider might still use) is refused, not let past them.
  if (endpoint !== 'chat' && body.messages !== undefined) {
    return Promise.reject(badRequest(`messages is not a field of this endpoint, and guardrails (${names}) do not read it here: send the endpoint's own fields`, 'messages'));
  }
  return run(guardrails, requestTexts(body, endpoint), 'INPUT', env, callId, [], piiTokens).then((ran): RequestGuarded => ({ ran }), (err: unknown) => {
    // disable_exception_on_block: a chat, completion or response is answered with the guardrail's text (guard-reply.ts), not sent.
    if (err instanceof GuardrailAnswer && answerable(endpoint)) return { ran: err.ran, answer: err.text };
    throw err;
  });
}

/**
 * The answer's texts with the call's PII tokens put back (output_parse_pii), after its guardrails ran: returns
 * whether any changed. What the logs keep is the answer as the guardrails left it, not this.
 */
export function unmaskTexts(texts: TextSlot[], piiTokens: ReadonlyMap<string, string> | undefined): boolean {
  if (!piiTokens?.size) return false;
  let changed = false;
  for (const slot of texts) {
    const text = unmaskPii(slot.text, piiTokens);
    if (text !== slot.text) {
      slot.set(text);
      changed = true;
    }
  }
  return changed;
}

/**
 * What the logs keep of an answer a guardrail changed, as the guardrails left it (before output_parse_pii unmasks
 * it for the client): its text (none for an answer of tool calls only), and its tool calls (none where a
 * guardrail's text replaced the answer).
 */
export interface MaskedAnswer {
  text?: string;
  toolCalls?: AnswerToolCall[];
}

/**
 * The answer's guardrails (`post_call`), over a plain answer's texts: its JSON, masked where a guardrail masked it.
 * With `plainText` (a transcription asked as `text`, `srt` or `vtt`), an answer that is not a JSON object is one text.
 */
export async function guardAnswer(
  guardrails: GuardrailConfig[], answer: string, env: Record<string, unknown>, callId: string, before: readonly string[], plainText = false, piiTokens?: ReadonlyMap<string, string>,
): Promise<{ ran: string[]; answer: string; masked?: MaskedAnswer }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    parsed = undefined;
  }
  if (plainText && !isObject(parsed)) {
    const slot: TextSlot = { role: 'assistant', text: answer, set: (text) => (slot.text = text) };
    const ran = await run(guardrails, [slot], 'OUTPUT', env, callId, before);
    const masked = slot.text === answer ? undefined : { text: slot.text };
    unmaskTexts([slot], piiTokens);
    return { ran, answer: slot.text, ...(masked ? { masked } : {}) };
  }
  if (parsed === undefined) return { ran: [], answer };
  let changed = false;
  const texts = answerTexts(parsed).map((slot) => {
    const mine: TextSlot = { ...slot, set: (text) => { slot.set(text); mine.text = text; changed = true; } };
    return mine;
  });
  // A transcription's words follow its masked text and segments, not checked one by one (words.ts).
  const words = wordsFollower(parsed);
  let ran: string[];
  try {
    ran = await run(guardrails, texts, 'OUTPUT', env, callId, before);
  } catch (err) {
    // disable_exception_on_block: a completion's choices become the guardrail's text (logged as the answer).
    if (err instanceof GuardrailAnswer && answerInPlace(parsed, err.text)) return { ran: err.ran, answer: JSON.stringify(parsed), masked: { text: err.text } };
    throw err;
  }
  if (words?.()) changed = true;
  // What the logs keep of a masked answer is its kept text and tool calls as masked (spend log `response`, Langfuse output).
  const text = changed ? keptText(texts) : undefined;
  const toolCalls = changed ? answerToolCalls(parsed) : undefined;
  const masked: MaskedAnswer | undefined = changed ? { ...(text !== undefined ? { text } : {}), ...(toolCalls ? { toolCalls } : {}) } : undefined;
  const unmasked = unmaskTexts(texts, piiTokens);
  return changed || unmasked ? { ran, answer: JSON.stringify(parsed), ...(masked ? { masked } : {}) } : { ran, answer };
}
