import { GatewayError } from '../errors.ts';
import { concatBytes } from '../openai/multipart-filter.ts';
import { cappedCalls, finishedToolCall, responsesToolCalls, ToolCallJoiner } from '../providers/answer-tool-calls.ts';
import type { AnswerToolCall, ProviderAnswer } from '../providers/types.ts';
import { guardAnswer, type MaskedAnswer, run, unmaskTexts } from './run.ts';
import type { GuardrailConfig } from './schema.ts';
import { keptText, type TextSlot } from './texts.ts';
import { isObject } from '../json.ts';
import { answerStream, firstCompletionChunk, GuardrailAnswer } from './guard-answer.ts';

// A streamed answer a guardrail reads is held until it is whole: at most this much of it (an isolate has 128 MB).
const MAX_HELD_BYTES = 4 * 1024 * 1024;
// The guardrails that only ever let an answer through or refuse it: every other one may mask what it reads.
const NEVER_MASKS = new Set<string>(['openai_moderation']);

/**
 * A provider's answer checked by the guardrails that read answers (`post_call`): a plain answer as it is;
 * a stream (OpenAI's chunks, or the Responses API's events) held until whole, as LiteLLM holds it, within
 * `timeoutMs` (`plainText`: a transcription, whose answer may be its text alone). Its texts (each choice's content, each tool call's arguments (a legacy `function_call`'s too), each output text) are
 * assembled and checked; it is then sent as it came, or rewritten where a guardrail masked: the masked
 * text in the first piece of each text and in the events that repeat it whole, the other pieces emptied.
 * A refusal throws before any byte reached the client. `piiTokens` (output_parse_pii) are then put back in
 * the texts for the client. Returns the answer to send and the guardrails that ran.
 */
export async function guardedAnswer(
  answer: ProviderAnswer, guards: GuardrailConfig[], env: Record<string, unknown>, callId: string, before: readonly string[], timeoutMs: number, plainText = false,
  piiTokens?: ReadonlyMap<string, string>,
): Promise<{ answer: ProviderAnswer; ran: string[] }> {
  const body = answer.body;
  const masks = guards.some((g) => !NEVER_MASKS.has(g.litellm_params.guardrail));
  if (!(body instanceof ReadableStream)) {
    const guarded = await guardAnswer(guards, typeof body === 'string' ? body : new TextDecoder().decode(body), env, callId, before, plainText, piiTokens);
    return { answer: { ...answer, body: guarded.answer, ...maskedOutcome(answer, guarded.masked, masks) }, ran: guarded.ran };
  }
  const chunks = await readWhole(body, timeoutMs);
  const events = splitEvents(new TextDecoder().decode(concatBytes(...chunks)));
  const texts = streamTexts(events);
  let ran: string[];
  try {
    ran = await run(guards, texts.slots, 'OUTPUT', env, callId, before);
  } catch (err) {
    // disable_exception_on_block: a completion stream is replayed as the guardrail's text (logged as the answer),
    // with the model's own usage object where the stream carried a usage chunk (the client asked for it).
    if (!(err instanceof GuardrailAnswer)) throw err;
    const usage = [...events].reverse().find((e) => isObject(e.data?.usage))?.data?.usage as Record<string, unknown> | undefined;
    const replaced = answerStream(firstCompletionChunk(events), err.text, usage);
    if (!replaced) throw err;
    return { answer: { ...answer, body: replayOf([replaced]), ...maskedOutcome(answer, { text: err.text }, masks) }, ran: err.ran };
  }
  // What the logs keep: the answer as guarded, read before output_parse_pii puts the call's PII tokens back for the client.
  const text = texts.changed() ? keptText(texts.slots) : undefined;
  const toolCalls = texts.changed() ? streamToolCalls(events) : undefined;
  const masked: MaskedAnswer | undefined = texts.changed() ? { ...(text !== undefined ? { text } : {}), ...(toolCalls ? { toolCalls } : {}) } : undefined;
  const unmasked = unmaskTexts(texts.slots, piiTokens);
  // Nothing masked or unmasked: the bytes as they came.
  const out = masked || unmasked ? [new TextEncoder().encode(events.map((e) => e.render()).join(''))] : chunks;
  return { answer: { ...answer, body: replayOf(out), ...maskedOutcome(answer, masked, masks) }, ran };
}

function replayOf(out: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of out) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/**
 * What the logs keep of a masked answer (`masked`): its text where the outcome keeps one, and its tool calls where
 * the outcome kept any (none where a guardrail's text replaced the answer). Never its reasoning where a guardrail
 * that may mask read the answer (`masks`), masked or not: no guardrail reads the reasoning, so what it would have
 * masked there (a name, an email) would reach the logs.
 */
function maskedOutcome(answer: ProviderAnswer, masked: MaskedAnswer | undefined, masks: boolean): Partial<ProviderAnswer> {
  if (!masked && !masks) return {};
  return {
    outcome: answer.outcome.then((o) => ({
      ...o,
      ...(masked && o.responseText !== undefined && masked.text !== undefined ? { responseText: masked.text } : {}),
      ...(masked && o.responseToolCalls ? { responseToolCalls: masked.toolCalls } : {}),
      responseReasoning: undefined,
    })),
  };
}

/** A held stream's tool calls: its first choice's deltas joined, or the Responses API's `function_call` items (the final event's list, else each as it was done), capped as a relayed stream's are. */
function streamToolCalls(events: StreamEvent[]): AnswerToolCall[] | undefined {
  const joiner = new ToolCallJoiner();
  let items: AnswerToolCall[] | undefined;
  for (const { data } of events) {
    if (!data) continue;
    const done = data.type === 'response.output_item.done' ? finishedToolCall(data) : undefined;
    if (done) (items ??= []).push(done);
    if ((data.type === 'response.completed' || data.type === 'response.incomplete') && isObject(data.response)) items = responsesToolCalls(data.response.output) ?? items;
    for (const choice of Array.isArray(data.choices) ? data.choices : []) {
      if (isObject(choice) && (choice.index ?? 0) === 0) joiner.addDelta(choice.delta);
    }
  }
  return items ? cappedCalls(items).calls : joiner.calls()?.calls;
}

async function readWhole(body: ReadableStream<Uint8Array>, timeoutMs: number): Promise<Uint8Array[]> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatewayError('The answer did not end in time for the guardrails that must read it whole', { status: 408, type: 'timeout' })), timeoutMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) return chunks;
      size += value.byteLength;
      if (size > MAX_HELD_BYTES) throw new GatewayError('The answer is too long for the guardrails that must read it whole', { status: 502, type: 'guardrail_failed_to_respond' });
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** One SSE event: its lines, its data parsed (the `data:` lines joined), and how it is written back. */
interface StreamEvent {
  data: Record<string, unknown> | undefined;
  touched: boolean;
  render(): string;
}

function splitEvents(wire: string): StreamEvent[] {
  const parts = wire.split(/(\r?\n\r?\n)/);
  const events: StreamEvent[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const raw = parts[i]!;
    const gap = parts[i + 1] ?? '';
    const lines = raw.split(/\r?\n/);
    const dataLines = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
    let data: Record<string, unknown> | undefined;
    try {
      const parsed = dataLines.length ? JSON.parse(dataLines.join('\n')) as unknown : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
    } catch {
      // `[DONE]`, or not JSON: passed on as it came.
    }
    const event: StreamEvent = {
      data,
      touched: false,
      render: () => (event.touched ? `${lines.filter((l) => !l.startsWith('data:')).map((l) => `${l}\n`).join('')}data: ${JSON.stringify(event.data)}${gap || '\n\n'}` : raw + gap),
    };
    events.push(event);
  }
  return events;
}

/**
 * The texts a stream carried, one slot each (a choice's content or text, a tool call's arguments, a Responses
 * output text or function call's arguments), made of its pieces; `set` puts the masked text in its first
 * piece and in the events that repeat it whole, and empties the others.
 */
function streamTexts(events: StreamEvent[]): { slots: TextSlot[]; changed(): boolean } {
  const pieces = new Map<string, { event: StreamEvent; holder: Record<string, unknown>; field: string }[]>();
  const wholes = new Map<string, { event: StreamEvent; holder: Record<string, unknown>; field: string }[]>();
  const add = (into: typeof pieces, key: string, event: StreamEvent, holder: Record<string, unknown>, field: string) => {
    if (typeof holder[field] !== 'string') return;
    const list = into.get(key) ?? [];
    list.push({ event, holder, field });
    into.set(key, list);
  };
  for (const event of events) {
    const data = event.data;
    if (!data) continue;
    for (const choice of Array.isArray(data.choices) ? data.choices : []) {
      if (!isObject(choice)) continue;
      const index = String(choice.index ?? 0);
      const delta = isObject(choice.delta) ? choice.delta : undefined;
      if (delta) add(pieces, `content:${index}`, event, delta, 'content');
      else add(pieces, `text:${index}`, event, choice, 'text');
      for (const call of Array.isArray(delta?.tool_calls) ? delta.tool_calls : []) {
        if (isObject(call) && isObject(call.function)) add(pieces, `tool:${index}:${String(call.index ?? 0)}`, event, call.function, 'arguments');
      }
      if (isObject(delta?.function_call)) add(pieces, `function:${index}`, event, delta.function_call, 'arguments');
    }
    const at = `${String(data.output_index ?? 0)}:${String(data.content_index ?? 0)}`;
    if (data.type === 'response.output_text.delta') add(pieces, `out:${at}`, event, data, 'delta');
    if (data.type === 'response.output_text.done') add(wholes, `out:${at}`, event, data, 'text');
    if (data.type === 'response.content_part.done' && isObject(data.part)) add(wholes, `out:${at}`, event, data.part, 'text');
    if (data.type === 'response.function_call_arguments.delta') add(pieces, `fn:${String(data.output_index ?? 0)}`, event, data, 'delta');
    if (data.type === 'response.function_call_arguments.done') add(wholes, `fn:${String(data.output_index ?? 0)}`, event, data, 'arguments');
    // Events that carry whole items repeat every text: masked as a whole too.
    const items = data.type === 'response.output_item.done' && isObject(data.item) ? [[String(data.output_index ?? 0), data.item] as const]
      : (data.type === 'response.completed' || data.type === 'response.incomplete') && isObject(data.response) && Array.isArray(data.response.output)
        ? data.response.output.map((item, i) => [String(i), item] as const) : [];
    for (const [output, item] of items) {
      if (!isObject(item)) continue;
      if (typeof item.arguments === 'string') add(wholes, `fn:${output}`, event, item, 'arguments');
      (Array.isArray(item.content) ? item.content : []).forEach((part, c) => isObject(part) && add(wholes, `out:${output}:${c}`, event, part, 'text'));
    }
  }
  let changed = false;
  const slots: TextSlot[] = [...pieces.entries()].map(([key, list]) => {
    const slot: TextSlot = {
      role: 'assistant',
      text: list.map((p) => p.holder[p.field] as string).join(''),
      // The first choice's content and a response's output text are the answer's text the logs keep.
      ...(key === 'content:0' || key === 'text:0' || key.startsWith('out:') ? { kept: true } : {}),
      set: (text) => {
        if (text === slot.text) return;
        list.forEach((p, i) => {
          p.holder[p.field] = i === 0 ? text : '';
          p.event.touched = true;
        });
        for (const w of wholes.get(key) ?? []) {
          w.holder[w.field] = text;
          w.event.touched = true;
        }
        slot.text = text;
        changed = true;
      },
    };
    return slot;
  });
  return { slots, changed: () => changed };
}
