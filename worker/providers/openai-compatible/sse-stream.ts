import { errorEnvelope, GatewayError } from '../../errors.ts';
import { cappedCalls, finishedToolCall, keptAnswer, type KeptToolCalls, responsesToolCalls, withCall } from '../answer-tool-calls.ts';
import { CONTAINER_EVENTS, showContainerIds } from '../container-ids.ts';
import { FILE_SEARCH_EVENTS, type FileSearchIds, fileSearchRewriter } from '../file-search-ids.ts';
import type { CallOutcome, EncryptedItemsSink, UsageReport } from '../types.ts';
import { responsesOutputText } from './answers.ts';
import { KeptChatStream } from './kept-chat-stream.ts';
import { estimatedUsage, readOpenAIUsage } from './usage.ts';
import { producedContents } from '../../router/encrypted-affinity.ts';

export interface StreamOptions {
  /**
   * A Responses API stream (`/v1/responses`): typed events, text in `response.output_text.delta`, usage in
   * the final `response.completed` (or `.incomplete`, `.failed`) event's response, always the client's too;
   * every event passes unchanged, so the usage options below do not apply.
   */
  responsesApi?: boolean;
  /** The Responses API: the id the client sees for the provider's response id (the gateway's, naming the deployment). */
  responseId?: (upstreamId: string) => string;
  /** The Responses API with `file_search` over the caller's stores: the stores' and files' ids the client is to see. */
  fileSearch?: FileSearchIds;
  /** The Responses API naming the caller's containers by the gateway's ids: the provider's id → the client's. */
  containerIds?: ReadonlyMap<string, string>;
  /** The client asked for `stream_options.include_usage`. */
  clientWantsUsage: boolean;
  /** The gateway added `include_usage` itself, so the usage chunk and `"usage":null` fields are not the client's. */
  usageInjected: boolean;
  promptTokenEstimate: number;
  keepText: boolean;
  /** Given the answer's reasoning items' `encrypted_content` at its end, before that event is passed on (`encrypted_content_affinity`). */
  encryptedItems?: EncryptedItemsSink;
  label: string;
  provider: string;
}

const EVENT_END = /\r?\n\r?\n/;
// The event's own type; nested items have types too, but none starting with "response.".
const RESPONSES_EVENT_TYPE = /"type"\s*:\s*"(response\.[a-z_.]+)"/;
const RESPONSES_DELTA = /"delta"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const RESPONSES_ERROR_EVENT = /^\{\s*"type"\s*:\s*"error"/;
/** The Responses API's events that carry the whole response (and so its id). */
const RESPONSE_EVENTS = new Set(['response.created', 'response.queued', 'response.in_progress', 'response.completed', 'response.incomplete', 'response.failed']);
// Content and tool-call argument text, for an estimate when the stream ends without usage.
const TEXT_FIELDS = /"(content|arguments|text)":"((?:[^"\\]|\\.)*)"/g;
// A chunk that carries a tool call: a `tool_calls` list with one in it, not the `"tool_calls":null` some servers put in every delta.
const TOOL_CALLS = /"tool_calls"\s*:\s*\[\s*\{/;
// The legacy `function_call` in a delta.
const FUNCTION_CALL = /"function_call"\s*:\s*\{/;

/**
 * A chunk's `text` field at `at` is reasoning, not the answer's text: an entry of OpenRouter's `reasoning_details`
 * (`{"type":"reasoning.text","text":...}`) or of a Mistral Magistral `thinking` content part
 * (`"content":[{"type":"thinking","thinking":[{"type":"text","text":...}]}]`). No answer text follows either in its
 * chunk (OpenRouter's is `content`; Magistral streams its thinking parts in chunks before its text); looked for only
 * at a `text` field, by a call that keeps its text. Its characters still count toward the completion estimate.
 */
const reasoningText = (data: string, at: number): boolean => data.lastIndexOf('"reasoning_details"', at) !== -1 || data.lastIndexOf('"thinking"', at) !== -1;

/**
 * Passes an OpenAI-format SSE stream through event by event as it arrives
 * (nothing waits for the end), reading the provider's usage report on the
 * way and hiding it from a client that did not ask for it. Reading is pulled
 * by the client: when the client goes away, the upstream read is cancelled,
 * which closes the upstream connection. `outcome` settles on every ending.
 */
export function relayOpenAIStream(upstream: ReadableStream<Uint8Array>, options: StreamOptions): {
  body: ReadableStream<Uint8Array>;
  outcome: Promise<CallOutcome>;
} {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = '';
  let usage: UsageReport | undefined;
  let firstChunkAt: number | undefined;
  let completionChars = 0;
  let text = '';
  let toolCalls = false;
  // The answer's tool calls, kept with its text: a chat stream's deltas joined (with its finish reason: `kept`); a
  // Responses stream's items as each is done (so a stream cut short keeps those), replaced by the final event's list.
  const kept = options.keepText && !options.responsesApi ? new KeptChatStream() : undefined;
  let responsesCalls: KeptToolCalls | undefined;
  // A Responses stream's answer has a text once an `output_text` delta came or its final event has an `output_text`
  // part: without one it keeps none, as the same answer not streamed (an answer of reasoning or tool calls only).
  let responsesText = false;
  let settle!: (outcome: CallOutcome) => void;
  const outcome = new Promise<CallOutcome>((resolve) => (settle = resolve));
  let settled = false;
  const finish = (extra: Partial<CallOutcome>) => {
    if (settled) return;
    settled = true;
    settle({
      usage: usage ?? estimatedUsage(options.promptTokenEstimate, completionChars),
      firstChunkAt,
      finishedAt: Date.now(),
      ...(kept ? kept.kept(text) : options.keepText ? keptAnswer(responsesText ? text : undefined, responsesCalls) : {}),
      ...(toolCalls ? { toolCalls } : {}),
      ...extra,
    });
  };

  // A Responses API event: read; its type returned.
  const readResponsesEvent = (data: string): string | undefined => {
    const type = RESPONSES_EVENT_TYPE.exec(data)?.[1];
    if (type === 'response.output_text.delta' || type === 'response.function_call_arguments.delta') {
      const delta = RESPONSES_DELTA.exec(data)?.[1] ?? '';
      completionChars += delta.length;
      if (type === 'response.function_call_arguments.delta') toolCalls = true;
      else if (options.keepText) {
        text += JSON.parse(`"${delta}"`) as string;
        responsesText = true;
      }
    } else if (type === 'response.output_item.done' && options.keepText && data.includes('"function_call"')) {
      try {
        const call = finishedToolCall(JSON.parse(data));
        if (call) responsesCalls = withCall(responsesCalls, call);
      } catch {
        // not JSON: the final event's list stands
      }
    } else if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      try {
        const response = (JSON.parse(data) as { response?: { usage?: never; output?: unknown; error?: { message?: unknown } | null } }).response;
        usage = readOpenAIUsage(response?.usage) ?? usage;
        const calls = options.keepText ? responsesToolCalls(response?.output) : undefined;
        if (calls) responsesCalls = cappedCalls(calls);
        if (options.keepText && responsesOutputText(response?.output) !== undefined) responsesText = true;
        if (options.encryptedItems && type !== 'response.failed') {
          const produced = producedContents(response?.output);
          if (produced) options.encryptedItems(produced);
        }
        if (type === 'response.failed') failed = providerFailure(response?.error?.message);
      } catch {
        // not JSON: the estimate stands
      }
    } else if (RESPONSES_ERROR_EVENT.test(data)) {
      try {
        failed = providerFailure((JSON.parse(data) as { message?: unknown }).message);
      } catch {
        failed = providerFailure(undefined);
      }
    }
    return type;
  };
  const files = options.fileSearch ? fileSearchRewriter(options.fileSearch) : undefined;
  // An event carrying the response (or, searching files, an item, part or annotation), with the ids the client is to see; any other passes as it came.
  const withResponseId = (event: string, data: string, type: string | undefined): string | null => {
    if (!type) return event;
    const whole = options.responseId !== undefined && RESPONSE_EVENTS.has(type);
    const found = files !== undefined && FILE_SEARCH_EVENTS.has(type);
    const named = options.containerIds !== undefined && CONTAINER_EVENTS.has(type);
    if (!whole && !found && !named) return event;
    try {
      const parsed = JSON.parse(data) as { response?: { id?: unknown; previous_response_id?: unknown } };
      if (whole && typeof parsed.response?.id === 'string') {
        parsed.response.id = options.responseId!(parsed.response.id);
        if (typeof parsed.response.previous_response_id === 'string') parsed.response.previous_response_id = options.responseId!(parsed.response.previous_response_id);
      } else if (!found && !named) {
        return event;
      }
      if (found) files.event(parsed as Record<string, unknown>);
      if (named) showContainerIds(parsed, options.containerIds!);
      const other = event.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('data:'));
      return [...other, `data: ${JSON.stringify(parsed)}`].join('\n');
    } catch {
      // An event that would carry file ids the gateway could not read is not passed on raw (it may hold results the client did not ask for).
      return found ? null : event;
    }
  };
  // The provider ended the response with a failure of its own (`response.failed`, an `error` event): passed on as it
  // came, and recorded as the call's error (spend log, metrics, the deployment's health).
  let failed: GatewayError | undefined;
  const providerFailure = (message: unknown) => new GatewayError(
    `litellm.APIError: ${options.label}Exception - ${typeof message === 'string' ? message.slice(0, 500) : 'the response failed'}`,
    { status: 500, type: 'api_error', provider: options.provider },
  );

  const relayEvent = (event: string): string | null => {
    const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data || data === '[DONE]') return event;
    firstChunkAt ??= Date.now();
    if (options.responsesApi) return withResponseId(event, data, readResponsesEvent(data));
    for (const match of data.matchAll(TEXT_FIELDS)) {
      completionChars += match[2]?.length ?? 0;
      // The kept text is the answer's content only; tool calls are flagged, not mixed in, and reasoning is not taken for it.
      if (options.keepText && match[1] !== 'arguments' && !(match[1] === 'text' && reasoningText(data, match.index))) text += JSON.parse(`"${match[2]}"`) as string;
    }
    // A legacy function call is a tool call too: such a stream is not cached as its text alone.
    const toolCall = (kept !== undefined || !toolCalls) && ((data.includes('"tool_calls"') && TOOL_CALLS.test(data)) || (data.includes('"function_call"') && FUNCTION_CALL.test(data)));
    if (toolCall) toolCalls = true;
    kept?.read(data, toolCall);
    if (data.includes('"usage":{')) {
      try {
        const chunk = JSON.parse(data) as { choices?: unknown[]; usage?: unknown };
        usage = readOpenAIUsage(chunk.usage) ?? usage;
        if (options.clientWantsUsage) return event;
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return null;
        delete chunk.usage;
        return `data: ${JSON.stringify(chunk)}`;
      } catch {
        return event;
      }
    }
    if (options.usageInjected && !options.clientWantsUsage) return event.replace(/,"usage":null/g, '');
    return event;
  };

  const drain = (final: boolean): string => {
    let out = '';
    for (;;) {
      const match = EVENT_END.exec(buffer);
      if (!match) break;
      const event = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const relayed = relayEvent(event);
      if (relayed !== null) out += `${relayed}\n\n`;
    }
    if (final && buffer.trim()) {
      const relayed = relayEvent(buffer);
      buffer = '';
      if (relayed !== null) out += `${relayed}\n\n`;
    }
    return out;
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (cause) {
          // The upstream broke after the stream began: tell the client in-band and end cleanly.
          const error = new GatewayError(
            `litellm.APIConnectionError: ${options.label}Exception - the upstream stream ended unexpectedly`,
            { status: 502, type: 'api_connection_error', provider: options.provider, retryable: true },
          );
          const tail = drain(true);
          // A Responses API client dispatches on event types: the break is an `error` event there.
          const told = options.responsesApi
            ? `event: error\ndata: ${JSON.stringify({ type: 'error', code: error.type, message: error.message, param: null })}\n\n`
            : `data: ${JSON.stringify(errorEnvelope(error))}\n\n`;
          controller.enqueue(encoder.encode(`${tail}${told}`));
          controller.close();
          finish({ error });
          void cause;
          return;
        }
        if (result.done) {
          buffer += decoder.decode();
          const tail = drain(true);
          if (tail) controller.enqueue(encoder.encode(tail));
          controller.close();
          finish(failed ? { error: failed } : {});
          return;
        }
        buffer += decoder.decode(result.value, { stream: true });
        const out = drain(false);
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel(reason) {
      finish({ aborted: true });
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  return { body, outcome };
}
