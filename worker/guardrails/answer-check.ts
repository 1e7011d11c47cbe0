import { GatewayError } from '../errors.ts';
import type { ProviderAnswer } from '../providers/types.ts';
import { guardAnswer } from './run.ts';
import type { GuardrailConfig } from './schema.ts';

// A streamed answer a guardrail reads is held until it is whole: at most this much of it.
const MAX_HELD_BYTES = 16 * 1024 * 1024;

/**
 * A provider's answer checked by the guardrails that read answers (`post_call`): a plain answer as it is;
 * a stream (OpenAI's chunks, or the Responses API's events) held until whole, as LiteLLM holds it, its text
 * assembled and checked, then sent as it came, or with the masked text in its first text event. A refusal
 * throws (before any byte reached the client). Returns the answer to send and the guardrails that ran.
 */
export async function guardedAnswer(answer: ProviderAnswer, guards: GuardrailConfig[], env: Record<string, unknown>, callId: string, before: readonly string[]): Promise<{ answer: ProviderAnswer; ran: string[] }> {
  const body = answer.body;
  if (!(body instanceof ReadableStream)) {
    const guarded = await guardAnswer(guards, typeof body === 'string' ? body : new TextDecoder().decode(body), env, callId, before);
    return { answer: { ...answer, body: guarded.answer, ...maskedOutcome(answer, guarded.maskedText) }, ran: guarded.ran };
  }
  const wire = await readWhole(body);
  const events = wire.split('\n');
  const texts = events.map(eventText);
  const whole = texts.filter((t) => t !== undefined).join('');
  const guarded = await guardAnswer(guards, JSON.stringify({ choices: [{ message: { role: 'assistant', content: whole } }] }), env, callId, before);
  const masked = guarded.maskedText;
  const out = masked === undefined ? wire : withText(events, texts, masked);
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(out));
      controller.close();
    },
  });
  return { answer: { ...answer, body: replay, ...maskedOutcome(answer, masked) }, ran: guarded.ran };
}

function maskedOutcome(answer: ProviderAnswer, masked: string | undefined): Partial<ProviderAnswer> {
  // What the logs keep of a masked answer is the masked text.
  return masked === undefined ? {} : { outcome: answer.outcome.then((o) => (o.responseText === undefined ? o : { ...o, responseText: masked })) };
}

async function readWhole(body: ReadableStream<Uint8Array>): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > MAX_HELD_BYTES) {
      await reader.cancel();
      throw new GatewayError('The answer is too long for the guardrails that must read it whole', { status: 502, type: 'guardrail_failed_to_respond' });
    }
    text += decoder.decode(value, { stream: true });
  }
}

type Parsed = { data: Record<string, unknown>; set(text: string): void; text: string };

/** A `data:` line's text: a chat chunk's `delta.content`, a completion chunk's `text`, a Responses `output_text.delta`. */
function parse(line: string): Parsed | undefined {
  if (!line.startsWith('data:')) return undefined;
  const payload = line.slice(5).trim();
  if (!payload.startsWith('{')) return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (data.type === 'response.output_text.delta' && typeof data.delta === 'string') return { data, text: data.delta, set: (t) => (data.delta = t) };
  const choice = Array.isArray(data.choices) ? data.choices[0] as Record<string, unknown> | undefined : undefined;
  const delta = choice?.delta as Record<string, unknown> | undefined;
  if (delta && typeof delta.content === 'string') return { data, text: delta.content, set: (t) => (delta.content = t) };
  if (choice && typeof choice.text === 'string') return { data, text: choice.text, set: (t) => (choice.text = t) };
  return undefined;
}

function eventText(line: string): string | undefined {
  return parse(line.replace(/\r$/, ''))?.text;
}

/** The events with the masked text in the first that carried text, and none in the others. */
function withText(events: string[], texts: (string | undefined)[], masked: string): string {
  let first = true;
  return events.map((line, i) => {
    if (texts[i] === undefined) return line;
    const parsed = parse(line.replace(/\r$/, ''))!;
    parsed.set(first ? masked : '');
    first = false;
    return `data: ${JSON.stringify(parsed.data)}${line.endsWith('\r') ? '\r' : ''}`;
  }).join('\n');
}
