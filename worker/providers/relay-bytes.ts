/**
 * A provider's body passed on as it arrives (audio, say), pulled as the
 * client reads (nothing read ahead); `ended` settles once, when the body has
 * been delivered, broke (with the error) or the client stopped reading (aborted).
 */
export function relayBytes(body: ReadableStream<Uint8Array>): { body: ReadableStream<Uint8Array>; ended: Promise<{ error?: unknown; aborted?: true }> } {
  const reader = body.getReader();
  let settle: (end: { error?: unknown; aborted?: true }) => void = () => undefined;
  const ended = new Promise<{ error?: unknown; aborted?: true }>((resolve) => {
    settle = (end) => {
      settle = () => undefined;
      resolve(end);
    };
  });
  const relayed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        controller.error(error);
        settle({ error });
        return;
      }
      if (next.done) {
        controller.close();
        settle({});
      } else {
        controller.enqueue(next.value);
      }
    },
    cancel(reason) {
      settle({ aborted: true });
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { body: relayed, ended };
}
