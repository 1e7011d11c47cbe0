import type { UsageReport } from '../providers/types.ts';
import { EventStreamDecoder } from '../providers/bedrock/eventstream.ts';
import { readJsonText, readUsage, type UsageReading, usageOf } from './usage-reader.ts';

/** How an answer's body was read on its way to the client. */
export interface TapResult {
  usage: UsageReport | undefined;
  /** The model the answer named. */
  model: string | undefined;
  firstChunkAt: number | undefined;
  finishedAt: number;
  /** Characters of text the model wrote in what passed on. */
  textChars: number;
  /** The stream carried an error frame (Bedrock's exception message). */
  exception: boolean;
  /** The client stopped reading before the end. */
  aborted: boolean;
  /** The upstream body broke off. */
  broken: boolean;
}

// A JSON answer is parsed for its usage only up to this size (a larger one, an embeddings batch, passes on unread).
const MAX_JSON_CHARS = 16 * 1024 * 1024;
// One SSE line longer than this is not parsed (no provider puts usage in such an event).
const MAX_LINE_CHARS = 1024 * 1024;

/**
 * The answer's bytes passed on to the client as they arrive, read on the way for the usage the provider
 * reports: each `data:` event of a stream (`sse`), each frame of AWS's `eventstream` (Bedrock's streams: a
 * Converse `metadata` event, or an InvokeModel `chunk` whose `bytes` hold the model's own event), or the
 * whole body (`json`). Nothing is held back and
 * nothing is changed. A client that stops reading cancels the upstream body.
 */
export function tapUsage(upstream: ReadableStream<Uint8Array>, kind: 'sse' | 'json' | 'eventstream' | 'other'): { body: ReadableStream<Uint8Array>; done: Promise<TapResult> } {
  const reading: UsageReading = {};
  const decoder = new TextDecoder();
  let pending = '';
  let skipping = false;
  let json = '';
  let firstChunkAt: number | undefined;
  let exception = false;
  let settle!: (r: TapResult) => void;
  const done = new Promise<TapResult>((resolve) => (settle = resolve));
  const end = (how: { aborted?: boolean; broken?: boolean }) => {
    if (kind === 'sse') readLine(pending + decoder.decode());
    if (kind === 'json' && json.length <= MAX_JSON_CHARS) {
      json += decoder.decode();
      readJsonText(json, reading);
    }
    settle({ usage: usageOf(reading), model: reading.model, firstChunkAt, finishedAt: Date.now(), textChars: reading.textChars ?? 0, exception, aborted: how.aborted === true, broken: how.broken === true });
  };
  const readLine = (line: string) => {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (!data.startsWith('{')) return;
    try {
      readUsage(JSON.parse(data) as unknown, reading);
    } catch {
      // A malformed event: the client sees it as it is.
    }
  };
  let frames: EventStreamDecoder | undefined = kind === 'eventstream' ? new EventStreamDecoder() : undefined;
  const readFrames = (chunk: Uint8Array) => {
    let decoded: ReturnType<EventStreamDecoder['push']>;
    try {
      decoded = frames!.push(chunk);
    } catch {
      // Framing the gateway cannot follow: the client gets it as it is; the rest is not read.
      frames = undefined;
      return;
    }
    for (const frame of decoded) {
      if (frame.headers[':message-type'] === 'exception') exception = true;
      try {
        const event = JSON.parse(new TextDecoder().decode(frame.payload)) as { bytes?: unknown };
        readUsage(event, reading);
        if (typeof event.bytes === 'string') readUsage(JSON.parse(atob(event.bytes)) as unknown, reading);
      } catch {
        // Not JSON: no usage in it.
      }
    }
  };
  const take = (chunk: Uint8Array) => {
    if (kind === 'other') return;
    if (kind === 'eventstream') {
      if (frames) readFrames(chunk);
      return;
    }
    const text = decoder.decode(chunk, { stream: true });
    if (kind === 'json') {
      if (json.length <= MAX_JSON_CHARS) json += text;
      return;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      if (!skipping) readLine((pending + piece).replace(/\r$/, ''));
      pending = '';
      skipping = false;
      start = nl + 1;
    }
    if (!skipping) pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      pending = '';
      skipping = true;
    }
  };
  const reader = upstream.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        end({ broken: true });
        controller.error(err);
        return;
      }
      if (next.done) {
        end({});
        controller.close();
        return;
      }
      firstChunkAt ??= Date.now();
      take(next.value);
      controller.enqueue(next.value);
    },
    cancel(reason) {
      end({ aborted: true });
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { body, done };
}
