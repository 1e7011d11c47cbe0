import type { LineRewriter } from './batch-lines.ts';

/** What filterParts keeps and rewrites, and whom it tells of a failure. */
export interface PartFilter {
  keeps(name: string): boolean;
  /** A kept part whose lines are rewritten on the way (batch-lines.ts). */
  rewrite?(name: string): LineRewriter | undefined;
  /** Told why the stream failed (a body that is no multipart: an Error; one past maxBytes: a RangeError), before the reader is. */
  failed?(err: Error): void;
  /** The body's bound, counted as it arrives (a chunked upload declares no length). */
  maxBytes?: number;
}

/**
 * A multipart/form-data body passed on as it arrives, with only the parts whose name `keeps` (a
 * provider refuses the gateway's own fields): parts are cut at their boundaries, the rest of the bytes
 * pass untouched, so a file of any size streams through in constant memory. Throws (erroring the
 * stream) on a body that is not the multipart its boundary says.
 */
export function filterParts(body: ReadableStream<Uint8Array>, boundary: string, filter: PartFilter): ReadableStream<Uint8Array> {
  const { keeps, rewrite } = filter;
  const encoder = new TextEncoder();
  // Every delimiter is CRLF "--" boundary; the body's first has no CRLF before it, so one is assumed.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  let buffer: Uint8Array = encoder.encode('\r\n');
  let state: 'preamble' | 'afterDelimiter' | 'headers' | 'content' | 'done' = 'preamble';
  let keep = false;
  /** Whether a part went out yet (the first goes without the assumed CRLF). */
  let sent = false;
  let read = 0;
  let rewriter: LineRewriter | undefined;
  const content = (out: TransformStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    if (!keep || bytes.length === 0) return;
    if (!rewriter) out.enqueue(bytes);
    else for (const piece of rewriter.push(bytes)) out.enqueue(piece);
  };

  const step = (out: TransformStreamDefaultController<Uint8Array>, final: boolean): void => {
    for (;;) {
      if (state === 'preamble' || state === 'content') {
        const at = indexOf(buffer, delimiter);
        if (at < 0) {
          // Content may end in the first bytes of a delimiter: keep those back until the next chunk.
          const safe = final ? buffer.length : Math.max(0, buffer.length - delimiter.length + 1);
          if (state === 'content') content(out, buffer.subarray(0, safe));
          buffer = buffer.subarray(safe);
          if (final && state === 'content') throw new Error('multipart body ends inside a part');
          return;
        }
        if (state === 'content') {
          content(out, buffer.subarray(0, at));
          if (keep && rewriter) for (const piece of rewriter.end()) out.enqueue(piece);
        }
        buffer = buffer.subarray(at + delimiter.length);
        state = 'afterDelimiter';
      } else if (state === 'afterDelimiter') {
        if (buffer.length < 2) {
          if (final) throw new Error('multipart body ends after a delimiter');
          return;
        }
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          out.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
          state = 'done';
          return;
        }
        if (buffer[0] !== 0x0d || buffer[1] !== 0x0a) throw new Error('multipart delimiter not followed by CRLF');
        buffer = buffer.slice(2);
        state = 'headers';
      } else if (state === 'headers') {
        const end = indexOf(buffer, HEADERS_END);
        if (end < 0) {
          if (buffer.length > MAX_HEADERS || final) throw new Error('multipart part headers too long or cut off');
          return;
        }
        const headers = new TextDecoder().decode(buffer.slice(0, end));
        // The part's name: the `name` parameter of its own Content-Disposition line, not of any other header.
        const disposition = /(?:^|\r\n)content-disposition:([^\r\n]*)/i.exec(headers)?.[1];
        const name = disposition === undefined ? undefined : /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
        keep = keeps.call(filter, name ?? '');
        rewriter = keep ? rewrite?.call(filter, name ?? '') : undefined;
        // A kept part goes out with the delimiter before it (the first one's CRLF is dropped again below).
        if (keep) out.enqueue(concatBytes(sent ? delimiter : delimiter.slice(2), encoder.encode('\r\n'), buffer.slice(0, end + HEADERS_END.length)));
        if (keep) sent = true;
        buffer = buffer.slice(end + HEADERS_END.length);
        state = 'content';
      } else {
        // The epilogue after the closing delimiter is dropped.
        buffer = new Uint8Array(0);
        return;
      }
    }
  };

  // The source is read through a feed of our own, so a refused upload can still be read to its end (drainSource)
  // whether the filtered stream was never taken, is held by a failed send, or was cancelled: the feed's
  // cancellation leaves the source as it is.
  const source = body.getReader();
  const feed = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const { done, value } = await source.read();
      if (done) ctrl.close();
      else ctrl.enqueue(value);
    },
  }, { highWaterMark: 0 });
  const filtered = feed.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      read += chunk.length;
      buffer = concatBytes(buffer, chunk);
      told(() => {
        if (filter.maxBytes !== undefined && read > filter.maxBytes) throw new RangeError(`multipart body larger than ${filter.maxBytes} bytes`);
        step(out, false);
      });
    },
    flush(out) {
      told(() => {
        step(out, true);
        if (state !== 'done') throw new Error('multipart body has no closing delimiter');
      });
    },
  }));
  drainers.set(filtered, async () => {
    for (;;) if ((await source.read()).done) return;
  });
  return filtered;

  function told(run: () => void): void {
    try {
      run();
    } catch (err) {
      filter.failed?.(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }
}

/** Each filtered stream's way to read what is left of its source and drop it. */
const drainers = new WeakMap<ReadableStream<Uint8Array>, () => Promise<void>>();

/**
 * Reads what is left of the request body under a stream filterParts made, dropping it (a refused upload: see
 * read-body.ts drainRefused); false for any other stream.
 */
export async function drainSource(filtered: ReadableStream<Uint8Array>): Promise<boolean> {
  const drain = drainers.get(filtered);
  if (!drain) return false;
  await drain();
  return true;
}

const HEADERS_END = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]);
/** A part's headers (its name and type) are short; more is not a multipart body. */
const MAX_HEADERS = 16 * 1024;

/** The boundary a multipart/form-data content type names; undefined for any other type. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))(?=[;\s]|$)/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The bytes of the pieces, one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  outer: for (let i = haystack.indexOf(first as number); i >= 0 && i <= last; i = haystack.indexOf(first as number, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
