/**
 * A fake Langfuse on loopback: `POST /api/public/ingestion` with HTTP basic
 * auth, each batch validated against the ingestion API's schema (below, from
 * Langfuse's own zod schema, `packages/shared/src/server/ingestion/types.ts`,
 * made strict so a misspelt or snake_case field is an error here rather than
 * silently dropped as Langfuse would), answered 207 with per-event
 * `successes` and `errors` as Langfuse answers. It can be told to fail every
 * request with a status, to fail single events, or to hang (held requests are
 * answered when it stops hanging, as a slow Langfuse finally would). It also
 * serves Langfuse's prompts API (langfuse-prompts.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type LangfusePromptStore, newPromptStore, PROMPTS_PATH, servePrompt } from './langfuse-prompts.ts';

const id = z.string().min(1).max(800).refine((v) => !v.includes('\r'), 'ID cannot contain carriage return characters');
const dateTime = z.iso.datetime({ offset: true });
const level = z.enum(['DEBUG', 'DEFAULT', 'WARNING', 'ERROR']);
const json = z.unknown();

/** Langfuse's usage object (the SDKs turn OpenAI's prompt_tokens/completion_tokens/total_cost into it). */
export const usageSchema = z.strictObject({
  input: z.number().int().nullish(),
  output: z.number().int().nullish(),
  total: z.number().int().nullish(),
  unit: z.enum(['CHARACTERS', 'TOKENS', 'MILLISECONDS', 'SECONDS', 'IMAGES', 'REQUESTS']).nullish(),
  inputCost: z.number().nullish(),
  outputCost: z.number().nullish(),
  totalCost: z.number().nullish(),
});

export const traceBodySchema = z.strictObject({
  id: id.nullish(),
  timestamp: dateTime.nullish(),
  name: z.string().max(1000).nullish(),
  externalId: z.string().nullish(),
  input: json.nullish(),
  output: json.nullish(),
  sessionId: z.string().nullish(),
  userId: z.string().nullish(),
  environment: z.string().max(40).regex(/^(?!langfuse)[a-z0-9-_]+$/).optional(),
  metadata: json.nullish(),
  release: z.string().nullish(),
  version: z.string().nullish(),
  public: z.boolean().nullish(),
  tags: z.array(z.string()).nullish(),
});

export const generationBodySchema = z.strictObject({
  id,
  traceId: id.nullish(),
  environment: z.string().max(40).regex(/^(?!langfuse)[a-z0-9-_]+$/).optional(),
  name: z.string().nullish(),
  startTime: dateTime.nullish(),
  endTime: dateTime.nullish(),
  completionStartTime: dateTime.nullish(),
  metadata: json.nullish(),
  input: json.nullish(),
  output: json.nullish(),
  level: level.nullish(),
  statusMessage: z.string().nullish(),
  parentObservationId: z.string().nullish(),
  version: z.string().nullish(),
  model: z.string().nullish(),
  modelParameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.record(z.string(), z.string())]).nullish()).nullish(),
  usage: usageSchema.nullish(),
  usageDetails: z.record(z.string(), z.number().int().nonnegative().nullish()).nullish(),
  costDetails: z.record(z.string(), z.number().nonnegative().nullish()).nullish(),
  promptName: z.string().nullish(),
  promptVersion: z.number().int().nullish(),
});

const envelope = { id, timestamp: dateTime, metadata: json.nullish() };
export const ingestionEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...envelope, type: z.literal('trace-create'), body: traceBodySchema }),
  z.strictObject({ ...envelope, type: z.literal('generation-create'), body: generationBodySchema }),
]);
/** The request as a whole; each event is checked on its own, as Langfuse does. */
export const ingestionRequestSchema = z.strictObject({ batch: z.array(z.unknown()), metadata: json.nullish() });

export type TraceEvent = { id: string; timestamp: string; type: 'trace-create'; body: z.infer<typeof traceBodySchema> };
export type GenerationEvent = { id: string; timestamp: string; type: 'generation-create'; body: z.infer<typeof generationBodySchema> };
export type AcceptedEvent = TraceEvent | GenerationEvent;

export interface IngestionRequest {
  receivedAt: number;
  status: number;
  authorized: boolean;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export type FakeLangfuseMode = { kind: 'ok' } | { kind: 'fail'; status: number } | { kind: 'hang' };

export interface FakeLangfuse {
  url: string;
  publicKey: string;
  secretKey: string;
  /** Every ingestion request, answered or not. */
  requests: IngestionRequest[];
  /** The prompts API's prompts and requests (langfuse-prompts.ts). */
  promptStore: LangfusePromptStore;
  /** Events that passed validation and were taken (answered 201 in the 207). */
  events: AcceptedEvent[];
  /** Events that failed validation, with zod's reasons. */
  invalid: { event: unknown; issues: string[] }[];
  setMode(mode: FakeLangfuseMode): void;
  /**
   * Answers the next event that matches with this status in the 207's `errors`
   * instead of taking it (Langfuse's per-event failures), once per call.
   */
  failEvent(match: (event: AcceptedEvent) => boolean, status: number): void;
  traces(): TraceEvent['body'][];
  generations(): GenerationEvent['body'][];
  /** Resolves with the predicate's value once it is defined, polling the recorded events. */
  waitFor<T>(find: (fake: FakeLangfuse) => T | undefined, timeoutMs?: number): Promise<T>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeLangfuse(options: { publicKey: string; secretKey: string }): Promise<FakeLangfuse> {
  let mode: FakeLangfuseMode = { kind: 'ok' };
  const eventFailures: { match: (event: AcceptedEvent) => boolean; status: number }[] = [];
  /** Requests held while hanging: answered (as the mode then says) when the fake stops hanging. */
  const hanging = new Map<ServerResponse, () => void>();
  const expected = `Basic ${Buffer.from(`${options.publicKey}:${options.secretKey}`).toString('base64')}`;

  const server = createServer((req, res) => void serve(req, res));
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url?.startsWith(PROMPTS_PATH)) return servePrompt(fake.promptStore, expected, req, res);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // recorded as text
    }
    const authorized = req.headers.authorization === expected;
    const record: IngestionRequest = { receivedAt: Date.now(), status: 0, authorized, body, headers: req.headers };
    fake.requests.push(record);
    const answer = (status: number, payload: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.method !== 'POST' || req.url !== '/api/public/ingestion') return answer(404, { message: 'not found' });
    if (mode.kind === 'hang') {
      hanging.set(res, () => respond(authorized, body, answer));
      res.on('close', () => hanging.delete(res));
      return;
    }
    respond(authorized, body, answer);
  }

  function respond(authorized: boolean, body: unknown, answer: (status: number, payload: unknown) => void): void {
    if (mode.kind === 'fail') return answer(mode.status, { message: 'fake Langfuse is failing' });
    if (!authorized) return answer(401, { message: 'Invalid credentials. Confirm that you\'ve configured the correct host.' });
    const request = ingestionRequestSchema.safeParse(body);
    if (!request.success) return answer(400, { message: 'Invalid request data', error: request.error.issues });
    const successes: { id: string; status: number }[] = [];
    const errors: { id: string; status: number; message: string; error: unknown }[] = [];
    for (const item of request.data.batch) {
      const parsed = ingestionEventSchema.safeParse(item);
      const itemId = (item as { id?: unknown } | null)?.id;
      const failure = parsed.success ? eventFailures.findIndex((f) => f.match(parsed.data as AcceptedEvent)) : -1;
      if (parsed.success && failure >= 0) {
        const status = eventFailures.splice(failure, 1)[0]?.status ?? 500;
        errors.push({ id: parsed.data.id, status, message: status >= 500 ? 'Internal Server Error' : 'Invalid request data', error: 'told to fail' });
      } else if (parsed.success) {
        fake.events.push(parsed.data as AcceptedEvent);
        successes.push({ id: parsed.data.id, status: 201 });
      } else {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
        fake.invalid.push({ event: item, issues });
        errors.push({ id: typeof itemId === 'string' ? itemId : 'unknown', status: 400, message: 'Invalid request data', error: issues });
      }
    }
    answer(207, { successes, errors });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeLangfuse = {
    url: `http://127.0.0.1:${port}`,
    publicKey: options.publicKey,
    secretKey: options.secretKey,
    requests: [],
    promptStore: newPromptStore(),
    events: [],
    invalid: [],
    setMode(next) {
      mode = next;
      if (next.kind === 'hang') return;
      const held = [...hanging.values()];
      hanging.clear();
      for (const release of held) release();
    },
    failEvent(match, status) {
      eventFailures.push({ match, status });
    },
    traces: () => fake.events.filter((e): e is TraceEvent => e.type === 'trace-create').map((e) => e.body),
    generations: () => fake.events.filter((e): e is GenerationEvent => e.type === 'generation-create').map((e) => e.body),
    async waitFor(find, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = find(fake);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`fake Langfuse: condition not met within ${timeoutMs} ms (${fake.events.length} events, ${fake.requests.length} requests, ${fake.invalid.length} invalid)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    reset() {
      fake.requests.length = 0;
      fake.events.length = 0;
      fake.invalid.length = 0;
      eventFailures.length = 0;
      fake.setMode({ kind: 'ok' });
    },
    close: async () => {
      for (const res of hanging.keys()) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
