/**
 * The `otel` callback's export: spans the gateway queued (worker/telemetry/otel/)
 * posted to an OTLP/HTTP collector as JSON (`POST .../v1/traces`,
 * `Content-Type: application/json`), their bytes forwarded unparsed, to the
 * collector otlp-target.ts reads from the environment.
 */
import { reportCallbackFailure } from '../../../worker/telemetry/metrics/hooks.ts';
import type { AdminEnv } from '../../env.ts';
import { chunkSegments, type EventSegment, joinedBody } from './ingestion.ts';
import type { CallbackDestination } from '../../../worker/telemetry/langfuse/types.ts';
import { isOtelExporter, type OtelExporter, vendorTarget } from './otel-vendors.ts';
import { type OtlpTarget, otlpTarget } from './otlp-target.ts';
import { log } from '../../../worker/telemetry/log.ts';
import { headerSecrets, scrubbed, secretsOf, withEscapes } from './loggers/secrets.ts';
import { type OwnerEnv, ownerLabel } from './logger-owners.ts';
import { type OwnerPools, ownerPools } from './owner-limits.ts';

/** How long the collector gets to answer one export (`OTEL_EXPORTER_OTLP_TIMEOUT`, milliseconds, overrides it). */
const DEFAULT_TIMEOUT_MS = 10_000;

/** ExportTraceServiceRequest: one resource, one scope, the segments' spans joined unparsed. */
function exportBody(resource: string, segments: readonly EventSegment[]): Uint8Array {
  return joinedBody(`{"resourceSpans":[{"resource":${resource},"scopeSpans":[{"scope":{"name":"litellm"},"spans":[`, segments, ']}]}]}');
}

/** A status the collector may take later (OTLP/HTTP's retryable ones, and refused credentials), as against a request it never will. */
const retryable = (status: number) => status >= 500 || status === 429 || status === 408 || status === 401 || status === 403;

export type ExportResult =
  /** Taken; `partial` when the collector dropped some of the spans (OTLP's partial success). */
  | { ok: true; partial?: string }
  /** Not taken: `retry` when the collector may take it later (unreachable, slow, 429, 5xx, credentials refused). */
  | { ok: false; retry: boolean; reason: string };

/**
 * What a collector's reply or a network error must never quote: every credential the admin Worker holds (the
 * OTLP vendors' keys and tokens, `OTEL_HEADERS`, Arize's, Phoenix's and Langfuse's: loggers/secrets.ts) and the
 * values of the headers this export sends (a Basic value decoded too), so a vendor echoing its key in a 401 is
 * logged and answered without it.
 */
export function exportSecrets(env: AdminEnv, target: OtlpTarget): string[] {
  // Each header value as sent (a Basic value decoded, a TRACELOOP_HEADERS value percent-decoded) also as JSON or a URL escapes it.
  return withEscapes([...secretsOf(env as Record<string, unknown>, undefined), ...Object.values(target.headers).flatMap(headerSecrets)]);
}

/** How much of a collector's reply a failure's reason quotes (after scrubbing). */
const ANSWER_MAX = 300;

/** One export request of these segments' spans, and what became of it; a reason quoting the reply is scrubbed of `secrets` (read on a failure only). */
export async function postSpans(target: OtlpTarget, segments: readonly EventSegment[], timeoutMs: number, secrets: () => readonly string[]): Promise<ExportResult> {
  const clean = (reason: string, max: number) => scrubbed(reason, secrets(), max);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json' },
      body: exportBody(target.resource, segments),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    const answer = await res.text().catch(() => '');
    if (res.ok) {
      const rejected = /"rejectedSpans"\s*:\s*"?(\d+)/.exec(answer);
      return rejected && Number(rejected[1]) > 0 ? { ok: true, partial: clean(`${rejected[1]} spans rejected: ${answer}`, ANSWER_MAX) } : { ok: true };
    }
    return { ok: false, retry: retryable(res.status), reason: clean(`${res.status} ${answer}`, ANSWER_MAX) };
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
    return { ok: false, retry: true, reason: clean(reason, ANSWER_MAX) };
  }
}

/** `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds), else 10 s. */
export function exportTimeout(env: AdminEnv): number {
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TIMEOUT);
  return Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS;
}

/** A message's spans, the message they came from, and (for a vendor callback) whose collector they go to. */
export type SpanSegment = EventSegment & { origin: number; destination?: CallbackDestination };

/**
 * Exports the spans of a batch's messages, each callback's (`otel`, `langfuse_otel`, `arize_phoenix`,
 * `arize`: a message holds one's) to its own collector, side by side, so one collector being down or slow
 * marks only its own messages for a retry. `ownerEnvs`, the keys' and teams' own settings, may still be being
 * read: only their groups wait for it. `pools` are the batch's owners' connections, shared with the loggers' owners.
 */
export async function exportSpans(
  segments: readonly SpanSegment[], env: AdminEnv, ctx: ExecutionContext, retry: (origin: number) => void,
  ownerEnvs?: ReadonlyMap<string, OwnerEnv> | Promise<ReadonlyMap<string, OwnerEnv>>, pools: OwnerPools = ownerPools(),
): Promise<void> {
  // Per callback and owner: a key's or team's own Arize credentials are a target of their own, exported on their own.
  const groups = new Map<string, SpanSegment[]>();
  const unknown = new Map<string, number>();
  for (const segment of segments) {
    const d = segment.destination;
    const exporter: unknown = d?.source === 'otel' ? d.exporter : undefined;
    if (exporter !== undefined && !isOtelExporter(exporter)) {
      // A gateway newer than this admin Worker: kept on the Queue (and at worst in the dead-letter queue), not lost,
      // and never posted to another callback's collector with its credentials.
      unknown.set(String(exporter).slice(0, 64), (unknown.get(String(exporter).slice(0, 64)) ?? 0) + segment.events);
      retry(segment.origin);
      continue;
    }
    const name: OtelCallbackName = exporter ?? 'otel';
    const owner = name === 'arize' ? spanOwner(d) : undefined;
    const group = owner ? `${name}\n${owner}` : name;
    const list = groups.get(group);
    if (list) list.push(segment);
    else groups.set(group, [segment]);
  }
  for (const [name, count] of unknown) log.error(`OpenTelemetry callback ${JSON.stringify(name)}: ${count} spans kept for a retry: no such callback in this admin Worker`);
  // Owners' groups go through the batch's owners' pools, the same the loggers' owners use (owner-limits.ts): all
  // tenants together hold at most OWNER_REQUESTS connections, one each, within the batch's OWNER_BUDGET_MS. The
  // config's exports are not pooled, and start at once, without waiting for the owners' settings to be read.
  const results = await Promise.allSettled([...groups].map(async ([group, list]) => {
    const [name, owner] = group.split('\n') as [OtelCallbackName, string | undefined];
    if (!owner) return exportTo(name, list, env, ctx, retry);
    const ownEnv = (await ownerEnvs)?.get(group) ?? { error: 'its settings were not read' };
    return exportTo(name, list, env, ctx, retry, { owner, env: ownEnv, run: pools.runFor<ExportResult>(owner) });
  }));
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    const [name, list] = [...groups][i]!;
    log.error(`OpenTelemetry callback ${name} failed, retrying its messages: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`);
    for (const segment of list) retry(segment.origin);
  });
}

type OtelCallbackName = 'otel' | OtelExporter;

/** An arize span's owner (`key:<hashed token>` or `team:<id>`), whose own credentials it goes with, as logger-owners.ts names it. */
export function spanOwner(d: CallbackDestination | undefined): string | undefined {
  if (d?.source !== 'otel') return undefined;
  return typeof d.key === 'string' && d.key ? `key:${d.key}` : typeof d.team === 'string' && d.team ? `team:${d.team}` : undefined;
}

/**
 * Exports one callback's spans (at most 3 MB a request) and marks
 * for a retry (`retry`, by message) those the collector could not take now.
 * A request it refuses as malformed (another 4xx) is sent again in halves, so
 * only the message it cannot take is logged and dropped, as OTLP says; spans
 * without a usable collector setting are logged and dropped, never retried.
 */
async function exportTo(
  name: OtelCallbackName, segments: readonly SpanSegment[], env: AdminEnv, ctx: ExecutionContext, retry: (origin: number) => void,
  owned?: { owner: string; env: OwnerEnv; run: (task: () => Promise<ExportResult>) => Promise<ExportResult> },
): Promise<void> {
  const label = name === 'otel' ? 'OpenTelemetry' : `OpenTelemetry (${name}${owned ? ` for ${ownerLabel(owned.owner)}` : ''})`;
  if (owned && 'error' in owned.env && typeof owned.env.error === 'string') {
    // An owner's settings that make no target hold only that owner's spans: a retry (or, once gone, a drop).
    const drop = 'drop' in owned.env && owned.env.drop === true;
    log.error(`${label} callback: ${segments.reduce((n, s) => n + s.events, 0)} spans ${drop ? 'dropped' : 'kept for a retry'}: ${owned.env.error}`);
    reportCallbackFailure(env, ctx, { callback: name, error: new Error(owned.env.error) });
    if (!drop) for (const segment of segments) retry(segment.origin);
    return;
  }
  const target = name === 'otel' ? otlpTarget(env) : vendorTarget((owned?.env ?? env) as AdminEnv, name);
  if ('error' in target) {
    log.error(`${label} callback: ${segments.reduce((n, s) => n + s.events, 0)} spans dropped: ${target.error}`);
    reportCallbackFailure(env, ctx, { callback: name, error: new Error(target.error) });
    return;
  }
  const where = new URL(target.url).origin;
  const timeoutMs = exportTimeout(env);
  let secrets: string[] | undefined;
  const secretsNow = () => (secrets ??= exportSecrets(env, target));
  const send = async (chunk: readonly SpanSegment[]): Promise<void> => {
    const count = chunk.reduce((n, s) => n + s.events, 0);
    const post = () => postSpans(target, chunk, timeoutMs, secretsNow);
    const result = await (owned ? owned.run(post) : post());
    if (result.ok) {
      if (result.partial) log.error(`${label} collector at ${where} took ${count} spans but ${result.partial}`);
      return;
    }
    if (!result.retry) {
      // One message's spans the collector will not take must not cost the others in the request theirs: halves, down to one message.
      if (chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await Promise.all([send(chunk.slice(0, half)), send(chunk.slice(half))]);
        return;
      }
      log.error(`${label} collector at ${where} refused ${count} spans, dropped: ${result.reason}`);
      reportCallbackFailure(env, ctx, { callback: name, error: new Error(result.reason) });
      return;
    }
    log.error(`${label} export to ${where} failed for ${count} spans, retrying: ${result.reason}`);
    reportCallbackFailure(env, ctx, { callback: name, error: new Error(result.reason) });
    for (const segment of chunk) retry(segment.origin);
  };
  await Promise.all(chunkSegments(segments).map(send));
}
