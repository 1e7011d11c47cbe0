/**
 * A fake OpenTelemetry collector on loopback: OTLP/HTTP's trace endpoint
 * (`POST /v1/traces`, `Content-Type: application/json`), each request checked
 * against the protocol's JSON encoding of ExportTraceServiceRequest (strict
 * here, so a misspelt field is an error rather than silently dropped, as a
 * real collector would), answered `{"partialSuccess":{}}` as the OpenTelemetry
 * Collector answers. It can be told to fail the next requests with a status
 * (and a reply of its own, e.g. one echoing the credentials it was sent).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`), `${n} lower-case hex digits`);
const uint64 = z.string().regex(/^\d+$/, 'an unsigned 64-bit integer as a decimal string');

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; arrayValue?: { values: AnyValue[] } };
const anyValue: z.ZodType<AnyValue> = z.lazy(() => z.strictObject({
  stringValue: z.string().optional(),
  boolValue: z.boolean().optional(),
  intValue: z.union([uint64, z.string().regex(/^-\d+$/)]).optional(),
  doubleValue: z.number().optional(),
  arrayValue: z.strictObject({ values: z.array(anyValue) }).optional(),
}).refine((v) => Object.keys(v).length === 1, 'exactly one of stringValue, boolValue, intValue, doubleValue, arrayValue'));
const attributes = z.array(z.strictObject({ key: z.string().min(1), value: anyValue }));

export const spanSchema = z.strictObject({
  traceId: hex(32).refine((v) => !/^0+$/.test(v), 'not all zeros'),
  spanId: hex(16).refine((v) => !/^0+$/.test(v), 'not all zeros'),
  parentSpanId: hex(16).optional(),
  traceState: z.string().optional(),
  name: z.string().min(1),
  kind: z.number().int().min(0).max(5),
  startTimeUnixNano: uint64,
  endTimeUnixNano: uint64,
  attributes,
  events: z.array(z.strictObject({ timeUnixNano: uint64, name: z.string().min(1), attributes })).optional(),
  status: z.strictObject({ code: z.number().int().min(0).max(2), message: z.string().optional() }).optional(),
});

const exportRequestSchema = z.strictObject({
  resourceSpans: z.array(z.strictObject({
    resource: z.strictObject({ attributes }),
    scopeSpans: z.array(z.strictObject({ scope: z.strictObject({ name: z.string(), version: z.string().optional() }), spans: z.array(spanSchema) })),
  })).min(1),
});

export type Span = z.infer<typeof spanSchema>;

export interface ExportRequest {
  headers: Record<string, string>;
  /** The resource's attributes as name → value. */
  resource: Record<string, unknown>;
  spans: Span[];
  raw: string;
}

export interface FakeCollector {
  url: string;
  requests: ExportRequest[];
  /** Requests that did not match the protocol, with why. */
  malformed: { reason: string; raw: string }[];
  spans(): Span[];
  /** Fail the next `times` requests with `status`, answering `body` (a reply quoting what it was sent, say) or OTLP's `unavailable`. */
  failNext(status: number, times?: number, body?: (headers: Record<string, string>) => unknown): void;
  /** How many requests were answered with a failNext() status. */
  failuresServed(): number;
  /** The headers of the requests `accepts` refused (401). */
  refused: Record<string, string>[];
  close(): Promise<void>;
}

/** An attribute's plain value (string, number, boolean, or a list of them). */
export function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.arrayValue?.values.map(valueOf);
}

/** A span's attributes as name → plain value. */
export function attributesOf(span: Pick<Span, 'attributes'>): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, valueOf(a.value)]));
}

/**
 * `path`: where the collector takes exports (`/v1/traces`; Langfuse's is `/api/public/otel/v1/traces`); `accepts`:
 * which requests' credentials it takes (headers by lower-case name), others answered 401 as a vendor refusing a key.
 */
export async function startFakeCollector(options: { path?: string; accepts?: (headers: Record<string, string>) => boolean } = {}): Promise<FakeCollector> {
  const path = options.path ?? '/v1/traces';
  const requests: ExportRequest[] = [];
  const malformed: FakeCollector['malformed'] = [];
  const refused: Record<string, string>[] = [];
  let failing: { status: number; times: number; body?: (headers: Record<string, string>) => unknown } | undefined;
  let failed = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== path) return answer(404, { code: 5, message: 'not found' });
      if (!String(req.headers['content-type']).startsWith('application/json')) return answer(415, { code: 3, message: 'unsupported content type' });
      if (options.accepts) {
        const sent: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) sent[name] = [value].flat().join(', ');
        if (!options.accepts(sent)) {
          refused.push(sent);
          return answer(401, { code: 16, message: 'unauthenticated' });
        }
      }
      if (failing && failing.times > 0) {
        failing.times--;
        failed++;
        const sent: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) sent[name] = [value].flat().join(', ');
        return answer(failing.status, failing.body ? failing.body(sent) : { code: 14, message: 'unavailable' });
      }
      let parsed: z.infer<typeof exportRequestSchema>;
      try {
        const checked = exportRequestSchema.safeParse(JSON.parse(raw));
        if (!checked.success) throw new Error(checked.error.message);
        parsed = checked.data;
      } catch (err) {
        malformed.push({ reason: err instanceof Error ? err.message : String(err), raw });
        return answer(400, { code: 3, message: 'invalid request' });
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
      for (const rs of parsed.resourceSpans) {
        requests.push({
          headers,
          resource: Object.fromEntries(rs.resource.attributes.map((a) => [a.key, valueOf(a.value)])),
          spans: rs.scopeSpans.flatMap((s) => s.spans),
          raw,
        });
      }
      answer(200, { partialSuccess: {} });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    malformed,
    spans: () => requests.flatMap((r) => r.spans),
    failNext(status, times = 1, body) {
      failing = { status, times, body };
    },
    failuresServed: () => failed,
    refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
