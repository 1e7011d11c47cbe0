import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';

/**
 * POSTs a body the gateway is expected to refuse before reading all of it (413), through node:http so the
 * answer is seen even when the gateway stops reading early. The body is written a piece at a time and
 * writing stops once the gateway has answered: writing megabytes into a connection the server has answered
 * and stopped reading gets it reset, and the reset can arrive before the answer is read, which would lose
 * the very answer under test on a loaded machine. Without a `content-length` header the body goes chunked
 * (no declared length to refuse it by, so the gateway must count it as it reads).
 */
export function postUntilAnswered(
  url: string, headers: OutgoingHttpHeaders, payload: Uint8Array, timeoutMs = 60_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      answered = true;
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
    void (async () => {
      const piece = 256 * 1024;
      for (let at = 0; at < payload.length && !answered; at += piece) {
        if (!req.write(payload.subarray(at, at + piece))) await new Promise((r) => req.once('drain', r));
      }
      if (!answered) req.end();
    })().catch(() => undefined);
  });
}
