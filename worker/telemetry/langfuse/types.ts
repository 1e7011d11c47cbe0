/**
 * The shapes the Langfuse callback moves around: the events of Langfuse's
 * ingestion API (`POST /api/public/ingestion`, the wire format of Langfuse's
 * Python SDK v2, which LiteLLM drives), and the Queue message that carries
 * them from the gateway to the admin Worker.
 */

import type { OtlpVendor } from '../otel/vendors.ts';

export type ObservationLevel = 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';

/** `trace-create` body. A trace-create for an id that exists updates (upserts) that trace. */
export interface TraceBody {
  id: string;
  timestamp?: string;
  name?: string;
  userId?: string;
  sessionId?: string;
  input?: unknown;
  output?: unknown;
  metadata?: unknown;
  release?: string;
  version?: string;
  public?: boolean;
  tags?: string[];
}

/** Langfuse's own usage object; the SDK converts OpenAI's `prompt_tokens` / `completion_tokens` / `total_cost` into it. */
export interface LangfuseUsage {
  input: number;
  output: number;
  total: number;
  unit: 'TOKENS';
  totalCost?: number;
}

/** `generation-create` body. */
export interface GenerationBody {
  id: string;
  traceId: string;
  name: string;
  startTime: string;
  endTime?: string;
  completionStartTime?: string;
  model?: string;
  modelParameters?: Record<string, string | number | boolean | string[]>;
  input?: unknown;
  output?: unknown;
  usage?: LangfuseUsage;
  usageDetails?: Record<string, number>;
  metadata?: unknown;
  level: ObservationLevel;
  statusMessage?: string;
  version?: string;
  parentObservationId?: string;
}

export type IngestionEvent =
  | { id: string; timestamp: string; type: 'trace-create'; body: TraceBody }
  | { id: string; timestamp: string; type: 'generation-create'; body: GenerationBody };

/**
 * Whose Langfuse project a call goes to. Never the secret itself: `env` is the
 * admin Worker's LANGFUSE_* variables; `key` and `team` name the entity whose
 * metadata (`logging` / `callback_settings`) holds the credentials, read from
 * Postgres by the consumer.
 */
export type LangfuseDestination =
  | { source: 'env' }
  | { source: 'key'; token: string }
  | { source: 'team'; teamId: string };

/**
 * Where a callback Queue message goes: a Langfuse project, the OTLP collector of `callbacks: ["otel"]`, or a
 * standard logger (worker/telemetry/standard/registry.ts) by its callback name.
 */
export type CallbackDestination = LangfuseDestination | OtelDestination | LoggerDestination;

/**
 * A standard logger's payloads; `key` (a hashed token) or `team` names whose `metadata.logging` /
 * `callback_settings` hold the destination's settings (worker/telemetry/standard/dynamic-settings.ts), read by
 * the admin Worker when it posts, never carried here.
 */
export interface LoggerDestination { source: 'logger'; name: string; key?: string; team?: string }

/**
 * The collector of `otel` (`exporter` unset) or of another OpenTelemetry-based callback, whose spans it carries;
 * for `arize`, `key` (a hashed token) or `team` names whose own Arize credentials the admin Worker sends them with
 * (read from Postgres when it posts, never carried here), as a LoggerDestination's.
 */
export interface OtelDestination {
  source: 'otel';
  exporter?: 'langfuse_otel' | 'arize_phoenix' | 'arize' | OtlpVendor;
  key?: string;
  team?: string;
}

/** One call's events and where they go. */
export interface CallbackItem {
  callback: 'langfuse';
  callId: string;
  destination: LangfuseDestination;
  events: IngestionEvent[];
}

/** One Queue message: the items an isolate gathered in one flush window. */
export interface CallbackMessage {
  v: 1;
  items: CallbackItem[];
}

/** The marker LiteLLM puts where a message, prompt or answer was withheld. */
export const REDACTED = 'redacted-by-litellm';
