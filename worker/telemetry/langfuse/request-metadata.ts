import type { RequestHeaders } from '../../providers/types.ts';
/**
 * The Langfuse controls a client sends in its request `metadata` (LiteLLM's
 * names: generation_name, trace_id, existing_trace_id, session_id, mask_input,
 * ...) and in `langfuse_*` headers, which override the body's as in LiteLLM's
 * `add_metadata_from_header`.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Credentials a client may try to pass, and where they would send its events (PostHog's project key and host, as
 * LiteLLM's dynamic params read them); never logged anywhere.
 */
const SECRET_KEYS = new Set(['langfuse_secret', 'langfuse_secret_key', 'langfuse_public_key', 'langfuse_host', 'langsmith_api_key', 'posthog_api_key', 'posthog_api_url']);

export interface RequestLangfuseMetadata {
  /** The client's metadata with header values merged in, without credentials: LiteLLM's `requester_metadata`. */
  requester: Json;
  generationName?: string;
  generationId?: string;
  parentObservationId?: string;
  version?: string;
  traceId?: string;
  existingTraceId?: string;
  traceName?: string;
  sessionId?: string;
  updateTraceKeys: string[];
  maskInput: boolean;
  maskOutput: boolean;
  debug: boolean;
  /** `trace_*` keys other than trace_id and trace_name, prefix stripped (trace_user_id → user_id). */
  traceFields: Json;
}

const text = (v: unknown, max = 800): string | undefined => {
  if (typeof v === 'string' && v !== '') return v.slice(0, max);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
};

/** Booleans as LiteLLM reads them from JSON or from a header (`"true"`). */
export const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');

/** A client's metadata without the credentials (and destinations) it may carry: what any record of it keeps. */
export function withoutClientCredentials(metadata: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(metadata)) if (!SECRET_KEYS.has(k)) out[k] = v;
  return out;
}

/** The client metadata of a request (`metadata`, or `litellm_metadata` on routes that use it) plus `langfuse_*` headers. */
export function requestLangfuseMetadata(body: Json, headers: RequestHeaders): RequestLangfuseMetadata {
  const fromBody = isObject(body.metadata) ? body.metadata : isObject(body.litellm_metadata) ? body.litellm_metadata : {};
  const merged = withoutClientCredentials(fromBody);
  headers.forEach((value, name) => {
    // `langfuse_trace_id: ...` as LiteLLM reads it; `langfuse-trace-id` for proxies that drop underscores.
    const lower = name.toLowerCase();
    if (!lower.startsWith('langfuse_') && !lower.startsWith('langfuse-')) return;
    const key = lower.slice('langfuse_'.length).replaceAll('-', '_');
    if (key && !SECRET_KEYS.has(`langfuse_${key}`)) merged[key] = value;
  });
  const traceFields: Json = {};
  for (const [k, v] of Object.entries(merged)) {
    if (k.startsWith('trace_') && k !== 'trace_id' && k !== 'trace_name' && v !== undefined && v !== null) traceFields[k.slice('trace_'.length)] = v;
  }
  const updateKeys = merged.update_trace_keys;
  return {
    requester: merged,
    generationName: text(merged.generation_name),
    generationId: text(merged.generation_id),
    parentObservationId: text(merged.parent_observation_id),
    version: text(merged.version),
    traceId: text(merged.trace_id),
    existingTraceId: text(merged.existing_trace_id),
    traceName: text(merged.trace_name),
    sessionId: text(merged.session_id),
    updateTraceKeys: Array.isArray(updateKeys) ? updateKeys.filter((k): k is string => typeof k === 'string') : [],
    maskInput: truthy(merged.mask_input),
    maskOutput: truthy(merged.mask_output),
    debug: truthy(merged.debug_langfuse),
    traceFields,
  };
}
