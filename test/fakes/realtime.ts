/**
 * A fake OpenAI (and Azure OpenAI) Realtime API on loopback: a WebSocket server that records each
 * session's handshake (path, query, headers) and what the client sent, greets with `session.created`,
 * acknowledges `session.update`, and answers each `response.create` with a short response whose
 * `response.done` reports the usage queued for it (text and audio tokens apart, as OpenAI reports them).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RealtimeUsage {
  input_tokens: number;
  output_tokens: number;
  input_token_details?: { cached_tokens?: number; text_tokens?: number; audio_tokens?: number; cached_tokens_details?: { text_tokens?: number; audio_tokens?: number } };
  output_token_details?: { text_tokens?: number; audio_tokens?: number };
}

export interface RealtimeSession {
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  received: Record<string, unknown>[];
  closed: Promise<{ code: number }>;
  socket: WebSocket;
}

export interface FakeRealtime {
  url: string;
  sessions: RealtimeSession[];
  /** Usage of the next responses, in order; then a default one. */
  queueUsage(...usage: RealtimeUsage[]): void;
  /** Until switched off, a response runs until the client sends `response.cancel` (its response.done then says cancelled). */
  holdResponses(on: boolean): void;
  /** Refuse the next handshakes with this HTTP status and body. */
  refuseNext(status: number, body: unknown): void;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE: RealtimeUsage = { input_tokens: 10, output_tokens: 5, input_token_details: { text_tokens: 10, audio_tokens: 0 }, output_token_details: { text_tokens: 5, audio_tokens: 0 } };

export async function startFakeRealtime(): Promise<FakeRealtime> {
  const sessions: RealtimeSession[] = [];
  let usage: RealtimeUsage[] = [];
  let refusal: { status: number; body: unknown } | undefined;
  let holding = false;
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'upgrade required' } }));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (refusal) {
      const { status, body } = refusal;
      refusal = undefined;
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      let markClosed!: (v: { code: number }) => void;
      const session: RealtimeSession = {
        path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, received: [],
        closed: new Promise((resolve) => (markClosed = resolve)), socket: ws,
      };
      sessions.push(session);
      ws.on('close', (code) => markClosed({ code }));
      const send = (event: Record<string, unknown>) => ws.send(JSON.stringify({ event_id: `event_${Math.random().toString(36).slice(2)}`, ...event }));
      send({ type: 'session.created', session: { id: `sess_${sessions.length}`, model: url.searchParams.get('model') ?? url.searchParams.get('deployment') } });
      ws.on('message', (data) => {
        const event = JSON.parse(String(data)) as Record<string, unknown>;
        session.received.push(event);
        if (event.type === 'session.update') send({ type: 'session.updated', session: event.session });
        if (event.type === 'response.create') {
          const id = `resp_${session.received.length}`;
          send({ type: 'response.created', response: { id, status: 'in_progress' } });
          send({ type: 'response.output_text.delta', response_id: id, item_id: 'item_1', output_index: 0, content_index: 0, delta: 'Hello' });
          if (!holding) send({ type: 'response.done', response: { id, status: 'completed', usage: { total_tokens: 0, ...(usage.shift() ?? DEFAULT_USAGE) } } });
        }
        if (event.type === 'input_audio_buffer.commit') {
          send({
            type: 'conversation.item.input_audio_transcription.completed', item_id: 'item_audio', content_index: 0, transcript: 'hello there',
            usage: { type: 'tokens', input_tokens: 100, output_tokens: 10, total_tokens: 110, input_token_details: { text_tokens: 0, audio_tokens: 100 } },
          });
        }
        if (event.type === 'response.cancel') {
          send({ type: 'response.done', response: { id: 'resp_cancelled', status: 'cancelled', usage: { total_tokens: 0, ...(usage.shift() ?? DEFAULT_USAGE) } } });
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sessions,
    queueUsage: (...u) => usage.push(...u),
    holdResponses: (on) => (holding = on),
    refuseNext: (status, body) => (refusal = { status, body }),
    reset: () => {
      sessions.length = 0;
      usage = [];
      refusal = undefined;
      holding = false;
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
