import { createServer, type Server } from 'node:http';

/** The paced stream of the benchmark: 64 chunks, 10 ms apart. */
export const STREAM_CHUNKS = 64;
export const STREAM_INTERVAL_MS = 10;

const completion = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream.' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});

const chunk = (i: number) => `data: ${JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o',
  choices: [{ index: 0, delta: { content: `w${i} ` }, logprobs: null, finish_reason: null }],
})}\n\n`;
const usageChunk = `data: ${JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o', choices: [],
  usage: { prompt_tokens: 12, completion_tokens: STREAM_CHUNKS, total_tokens: 12 + STREAM_CHUNKS },
})}\n\n`;

/**
 * A fake OpenAI upstream tuned for load: zero-delay JSON for plain calls, a
 * paced SSE stream for `"stream": true` (detected without parsing the body).
 * It records nothing, so it costs the same on every path measured.
 */
export async function startBenchUpstream(): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      if (!/"stream"\s*:\s*true/.test(body)) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
        res.end(completion);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      // Chunk i is due STREAM_INTERVAL_MS * i after the first, on an absolute schedule: a timer that fires
      // late (this process also runs the load generator's client side) does not push every later chunk back.
      const started = performance.now();
      const send = () => {
        if (res.destroyed) return;
        if (i < STREAM_CHUNKS) {
          res.write(chunk(i++));
          setTimeout(send, Math.max(0, started + i * STREAM_INTERVAL_MS - performance.now()));
        } else {
          res.end(`${usageChunk}data: [DONE]\n\n`);
        }
      };
      send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A Langfuse stand-in that takes ingestion batches and answers 207 like Langfuse, counting events and distinct traces. */
export async function startLangfuseSink(): Promise<{ url: string; events: () => number; traces: () => number; close(): Promise<void> }> {
  let events = 0;
  const traces = new Set<string>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(parts).toString()) as { batch?: { id: string; type?: string; body?: { id?: string } }[] };
        const batch = body.batch ?? [];
        events += batch.length;
        for (const e of batch) if (e.type === 'trace-create' && e.body?.id) traces.add(e.body.id);
        res.writeHead(207, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ successes: batch.map((e) => ({ id: e.id, status: 201 })), errors: [] }));
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    events: () => events,
    traces: () => traces.size,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
