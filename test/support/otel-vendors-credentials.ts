/** The vendor credentials the otel-vendors suites set (otel-vendors, otel-vendors-redaction), and the export that carried a span. */
import type { FakeCollector, Span } from '../fakes/otel-collector.ts';

export const LANGFUSE_PUBLIC = 'pk-lf-vendor-0001';
export const LANGFUSE_SECRET = 'sk-lf-vendor-secret-0001';
export const PHOENIX_KEY = 'phx-secret-key-0001';

export const requestOf = (c: FakeCollector, span: Span) => c.requests.find((r) => r.spans.includes(span))!;
