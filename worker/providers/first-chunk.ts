/**
 * `stream_timeout` covers a stream's first body byte, not only its response
 * headers: a provider that answers 200 and then stalls is cut (and the router
 * retries or falls back) just like one that never answers. The first chunk is
 * read while the attempt's timer can still abort the fetch; the stream handed
 * on yields that chunk and then the rest of the body, pulled as the client
 * reads (nothing read ahead), and cancelling it cancels the upstream read.
 * Rejects as the first read does (an abort, a reset).
 */
export async function withFirstChunk(body: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (err) {
    void reader.cancel().catch(() => undefined);
    throw err;
  }
  let pending = first.done ? undefined : first.value;
  let ended = first.done;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      if (ended) {
        controller.close();
        return;
      }
      const next = await reader.read();
      if (next.done) {
        ended = true;
        controller.close();
      } else {
        controller.enqueue(next.value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
