import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';

/**
 * POSTs a body the gateway is expected to refuse before reading all of it (413), through node:http so the
 * answer is seen even when the gateway stops reading early. Bytes the server never reads make its close a
 * reset, and on Linux a reset discards an answer the client has not read yet: so the body goes a piece at a
 * time, writing stops once the gateway has answered, and with `holdBackMs` only its first kilobyte is sent
 * until the gateway answers or that time passes (for a refusal by the declared `content-length`, which needs
 * none of it). Without a `content-length` header the body goes chunked (no declared length to refuse it by,
 * so the gateway must count it as it reads).
 */
export function postUntilAnswered(
  url: string, headers: OutgoingHttpHeaders, payload: Uint8Array, options: { timeoutMs?: number; holdBackMs?: number } = {},
): Promise<{ status: number; body: string }> {
  const { timeoutMs = 60_000, holdBackMs = 0 } = options;
  return new Promise((resolve, reject) => {
    let answered = false;
    let closed = false;
    /** Ends the writer's current wait: on `drain`, the answer, or the connection closing. */
    let wake = () => undefined as void;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      answered = true;
      wake();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', () => undefined);
    req.on('drain', () => wake());
    req.on('close', () => {
      closed = true;
      wake();
    });
    /** Resolves on `drain`, the answer or the connection closing, or after `ms` (when given), whichever comes first. */
    const settle = (ms?: number) => new Promise<void>((done) => {
      wake = done;
      if (ms !== undefined) setTimeout(done, ms);
    });
    void (async () => {
      const first = 1024;
      req.write(payload.subarray(0, first));
      if (holdBackMs > 0 && !answered) await settle(holdBackMs);
      const piece = 256 * 1024;
      for (let at = first; at < payload.length && !answered && !closed; at += piece) {
        if (!req.write(payload.subarray(at, at + piece))) await settle();
      }
      if (!answered && !closed) req.end();
    })().catch(() => undefined);
  });
}
