/**
 * The `langfuse.*` attributes of a `langfuse_otel` span: LiteLLM's
 * (`_set_langfuse_specific_attributes`: the client's `generation_name`,
 * `trace_name`, `trace_user_id`, `session_id`, `tags`, `trace_metadata`, ... as
 * Langfuse's OTel attribute names, and `LANGFUSE_TRACING_ENVIRONMENT`), and
 * those Langfuse's OTel endpoint reads for a generation's model, usage and
 * cost, so the gateway's own figures are shown rather than Langfuse's guess.
 */
import type { RequestLangfuseMetadata } from '../langfuse/request-metadata.ts';
import { type Attribute, bounded, put, type SpanCall } from './spans.ts';

/** Adds the langfuse.* attributes (and `user.id`, `session.id`, which Langfuse reads as the trace's). */
export function langfuseAttributes(out: Attribute[], call: SpanCall, lf: RequestLangfuseMetadata, extra: { user?: string; environment?: string }): void {
  const { record } = call;
  put(out, 'langfuse.environment', extra.environment);
  put(out, 'langfuse.observation.type', 'generation');
  put(out, 'langfuse.observation.model.name', record.model || record.model_group);
  put(out, 'langfuse.observation.usage_details', JSON.stringify({ input: record.prompt_tokens, output: record.completion_tokens, total: record.total_tokens }));
  if (typeof record.spend === 'number' && Number.isFinite(record.spend)) put(out, 'langfuse.observation.cost_details', JSON.stringify({ total: record.spend }));
  if (call.error) put(out, 'langfuse.observation.level', 'ERROR');

  const traceUser = lf.traceFields.user_id;
  put(out, 'user.id', typeof traceUser === 'string' && traceUser ? traceUser.slice(0, 800) : extra.user ?? (record.end_user || undefined));
  put(out, 'session.id', lf.sessionId ?? (record.session_id || undefined));
  if (record.request_tags.length) put(out, 'langfuse.trace.tags', record.request_tags);
  put(out, 'langfuse.trace.name', lf.traceName);
  put(out, 'langfuse.trace.id', lf.traceId);
  put(out, 'langfuse.trace.existing_id', lf.existingTraceId);
  put(out, 'langfuse.generation.name', lf.generationName);
  put(out, 'langfuse.generation.id', lf.generationId);
  put(out, 'langfuse.generation.parent_observation_id', lf.parentObservationId);
  put(out, 'langfuse.version', lf.version);
  if (lf.maskInput) put(out, 'langfuse.generation.mask_input', true);
  if (lf.maskOutput) put(out, 'langfuse.generation.mask_output', true);
  if (lf.debug) put(out, 'langfuse.debug', true);
  if (lf.updateTraceKeys.length) put(out, 'langfuse.trace.update_keys', JSON.stringify(lf.updateTraceKeys));
  const traceMetadata = lf.requester.trace_metadata;
  if (traceMetadata !== undefined && traceMetadata !== null) put(out, 'langfuse.trace.metadata', bounded(JSON.stringify(traceMetadata), 2048));
  if (typeof lf.traceFields.version === 'string') put(out, 'langfuse.trace.version', lf.traceFields.version.slice(0, 200));
  if (typeof lf.traceFields.release === 'string') put(out, 'langfuse.release', lf.traceFields.release.slice(0, 200));
}
