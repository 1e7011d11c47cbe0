/**
 * An agent's SSE answer (`message/stream`, `tasks/resubscribe`) passed on to the client event by event, each new
 * task or context it names recorded as the caller's first, and settled in the call's spend-log row when it ends (call.ts).
 */
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import type { CallSettler } from '../proxy/call-end.ts';
import { INTERNAL_ERROR, TASK_NOT_FOUND } from './json-rpc.ts';
import { answerIds } from './task-ids.ts';

/**
 * The longest SSE event held whole (its ids are read before it goes on): a longer one ends the stream with an
 * error event, as the gateway cannot know whether it hands the caller a task it has not recorded.
 */
export const EVENT_CHARS_MAX = 4 * 1024 * 1024;

/** What recording an event's ids came to (task-owners.ts RecordOutcome). */
type Recorded = 'ok' | 'foreign' | 'failed';

/** A blank line ending an SSE event (any of SSE's line ends). */
const EVENT_END = /(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)/g;

/** The complete events at the start of `text` from `from` on (each with its ending), and the rest; a final `\r` waits for its `\n`. */
function splitEvents(text: string, from: number): { events: string[]; rest: string } {
  const events: string[] = [];
  const scan = text.endsWith('\r') ? text.slice(0, -1) : text;
  let start = 0;
  EVENT_END.lastIndex = Math.max(0, from);
  for (let m = EVENT_END.exec(scan); m; m = EVENT_END.exec(scan)) {
    events.push(text.slice(start, m.index + m[0].length));
    start = m.index + m[0].length;
  }
  return { events, rest: text.slice(start) };
}

/** An SSE event's data (its `data:` lines joined), parsed as JSON; undefined for a comment, `retry:` or a non-JSON event. */
function eventJson(event: string): unknown {
  const lines = event.split(/\r\n|\r|\n/).filter((l) => l.startsWith('data:'));
  if (!lines.length) return undefined;
  try {
    return JSON.parse(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  } catch {
    return undefined;
  }
}

/**
 * The agent's SSE stream passed on event by event, settled when it ends: a client gone early is `aborted` (still
 * billed: the agent did the work); a stream that breaks ends with LiteLLM's JSON-RPC error event and an unbilled
 * failure row; a stream whose first data event is a JSON-RPC error is passed on and settled as an unbilled failure.
 * With `record`, each event naming a task or context the stream has not named yet is held until `record` ties it
 * to the caller (comments, keep-alives and `retry:` blocks pass); one naming another owner's id ends the stream with
 * TaskNotFound, one that cannot be recorded with an error event, neither passed on (`notFound`, `failedRecord`).
 * `started` runs at the first chunk (the deadline covers the wait for it, not the whole stream).
 */
export function passStream(upstream: ReadableStream<Uint8Array>, settler: CallSettler, call: { id: Json[string]; name: string; cost: number; apiBase: string; callId: string; started: () => void; record?: ((result: unknown) => Promise<Recorded>) | undefined }): Response {
  let firstChunkAt: number | undefined;
  let settled = false;
  let rpcError: GatewayError | undefined;
  // Whether a data event has gone by (only the first one's JSON-RPC error is the agent's answer).
  let sawData = false;
  // The incomplete event at the end of what came (never more than EVENT_CHARS_MAX), and where to look for its end.
  let pending = '';
  let scanned = 0;
  const seen = new Set<string>();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const settle = (end: { aborted?: true; error?: GatewayError }) => {
    if (settled) return;
    settled = true;
    call.started();
    const finishedAt = Date.now();
    const error = end.error ?? rpcError;
    settler.settle({ outcome: { usage: NO_USAGE, finishedAt, ...(firstChunkAt ? { firstChunkAt } : {}), ...end, ...(error ? { error } : {}) }, cost: error ? 0 : call.cost, apiBase: call.apiBase, finishedAt });
  };
  /** Whether `event` may go on: its new ids recorded as the caller's (`ok`), or why not. */
  const admit = async (event: string): Promise<Recorded> => {
    const json = eventJson(event);
    if (json === undefined) return 'ok';
    const first = !sawData;
    sawData = true;
    if (!isObject(json)) return 'ok';
    if (first && isObject(json.error)) rpcError = new GatewayError(`Agent ${call.name}: ${String(json.error.message ?? 'error').slice(0, 500)}`, { status: 502, type: 'upstream_error' });
    if (!call.record || !('result' in json)) return 'ok';
    const { taskId, contextId } = answerIds(json.result);
    const fresh = [taskId && `task:${taskId}`, contextId && `context:${contextId}`].filter((k): k is string => !!k && !seen.has(k));
    if (!fresh.length) return 'ok';
    const outcome = await call.record(json.result);
    if (outcome === 'ok') for (const key of fresh) seen.add(key);
    return outcome;
  };
  const reader = upstream.getReader();
  /** Ends the stream early with a last event of the gateway's own, the agent's stream let go. */
  const cut = (out: ReadableStreamDefaultController<Uint8Array>, error: GatewayError, last: Json) => {
    settle({ error });
    out.enqueue(encoder.encode(`data: ${JSON.stringify(last)}\n\n`));
    out.close();
    void reader.cancel().catch(() => undefined);
  };
  /** Passes on the complete events in `events`; false when the stream was cut. */
  const pass = async (out: ReadableStreamDefaultController<Uint8Array>, events: string[]): Promise<boolean> => {
    let ready = '';
    for (const event of events) {
      const outcome = await admit(event);
      if (outcome !== 'ok') {
        // What went before the withheld event goes on; it and all after do not.
        if (ready) out.enqueue(encoder.encode(ready));
        if (outcome === 'foreign') {
          cut(out, new GatewayError(`Agent ${call.name}: its stream names another owner's task (withheld)`, { status: 404, type: 'not_found_error' }), { jsonrpc: '2.0', id: call.id, error: { code: TASK_NOT_FOUND, message: 'Task not found' } });
        } else {
          const message = 'The A2A task store is unavailable; retry shortly';
          cut(out, new GatewayError(message, { status: 503, type: 'service_unavailable' }), { jsonrpc: '2.0', id: call.id, error: { code: INTERNAL_ERROR, message } });
        }
        return false;
      }
      ready += event;
    }
    if (ready) out.enqueue(encoder.encode(ready));
    return true;
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            // A last event without its blank line is still one (a lax client reads it): admitted as the others.
            const tail = pending + decoder.decode();
            pending = '';
            if (tail && !(await pass(out, [tail]))) return;
            settle({});
            out.close();
            return;
          }
          if (firstChunkAt === undefined) {
            firstChunkAt = Date.now();
            call.started();
          }
          pending += decoder.decode(value, { stream: true });
          const { events, rest } = splitEvents(pending, scanned - 3);
          pending = rest;
          scanned = rest.length;
          if (pending.length > EVENT_CHARS_MAX) {
            if (!(await pass(out, events))) return;
            const message = `Agent ${call.name}: a stream event over ${EVENT_CHARS_MAX / 1048576} MB`;
            return cut(out, new GatewayError(message, { status: 502, type: 'upstream_error' }), { jsonrpc: '2.0', id: call.id, error: { code: INTERNAL_ERROR, message } });
          }
          if (!events.length) continue;
          if (!(await pass(out, events))) return;
          return;
        }
      } catch {
        // What came of an event not ended is dropped: the error event's blank line would end it, unchecked.
        pending = '';
        const message = `Agent ${call.name}: its stream broke`;
        settle({ error: new GatewayError(message, { status: 502, type: 'upstream_error' }) });
        out.enqueue(encoder.encode(`\n\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: INTERNAL_ERROR, message } })}\n\n`));
        out.close();
      }
    },
    cancel(reason) {
      settle({ aborted: true });
      return reader.cancel(reason);
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-litellm-call-id': call.callId } });
}
