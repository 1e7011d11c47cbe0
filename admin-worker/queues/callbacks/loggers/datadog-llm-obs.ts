/**
 * LiteLLM's `datadog_llm_observability` callback (DataDogLLMObsLogger): successful and failed calls as Datadog LLM
 * Observability spans (datadog-llm-obs-span.ts), a batch POSTed as `{data: {type: "span", attributes: {ml_app, tags,
 * spans}}}` to `https://api.<DD_SITE>/api/intake/llm-obs/v1/trace/spans` with the `DD-API-KEY` header; or to a
 * Datadog Agent (`LITELLM_DD_AGENT_HOST`, port `LITELLM_DD_LLM_OBS_PORT`, default 8126, the key optional), or to
 * `DD_BASE_URL` + the same path (LiteLLM's override, for tests and proxies). `ml_app` is `DD_LLMOBS_ML_APP`, else
 * `DD_SERVICE`, else `litellm-server`; the tags are the `datadog` logger's (DD_ENV, DD_SERVICE, DD_VERSION,
 * HOSTNAME, POD_NAME). The intake answers 202. A span that started over 24 hours ago is dropped: the intake takes
 * none older.
 */
import { log } from '../../../../worker/telemetry/log.ts';
import type { EventSegment } from '../segment.ts';
import { DATADOG_MAX_REQUEST_BYTES, datadogIntake, type DatadogIntakeSpec, datadogRequestBytes, type DatadogSettings, datadogSettings } from './datadog.ts';
import { llmObsSpan } from './datadog-llm-obs-span.ts';
import { type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, type LoggerEnv, type LoggerPoster, type PostResult, postClassified } from './types.ts';

/**
 * LiteLLM's intake, on the site's `api.` host, and the same path on an Agent (a stock Agent serves LLM
 * Observability under `/evp_proxy/v2/api/v2/llmobs` instead, as ddtrace sends: LiteLLM's path is kept, README says so).
 */
const SPANS_INTAKE: DatadogIntakeSpec = {
  path: '/api/intake/llm-obs/v1/trace/spans', hostPrefix: 'api.', portVar: 'LITELLM_DD_LLM_OBS_PORT', defaultPort: '8126',
  label: 'the Datadog LLM Observability intake URL',
};

/** The intake takes spans at most 24 hours old (Datadog's HTTP API docs): an older one is dropped, not sent. */
const LLM_OBS_MAX_SPAN_AGE_MS = 24 * 60 * 60 * 1000;

const encoder = new TextEncoder();

/** The segments' payloads as spans, and the call ids of those too old for the intake (started over 24 h before `now`). */
function spansOf(segments: readonly EventSegment[], settings: DatadogSettings, now: number): { spans: Json[]; stale: string[] } {
  const spans: Json[] = [];
  const stale: string[] = [];
  for (const payload of payloadsOf(segments)) {
    const span = llmObsSpan(payload, settings);
    if ((span.start_ns as number) / 1e6 < now - LLM_OBS_MAX_SPAN_AGE_MS) stale.push(String(payload.id ?? ''));
    else spans.push(span);
  }
  return { spans, stale };
}

/** The request body: spans of one intake request, with the app and base tags. */
function spansBody(spans: Json[], settings: DatadogSettings, mlApp: string): Uint8Array {
  return encoder.encode(JSON.stringify({ data: { type: 'span', attributes: { ml_app: mlApp, tags: settings.baseTags, spans } } }));
}

export const datadogLlmObsPoster: LoggerPoster = {
  // LiteLLM sends its queue in batches of 512; the intake takes 5 MB a request. Grouped by the datadog logger's
  // estimate (each payload's JSON escaped again, and an envelope), kept under the limit with room to spare: an
  // overestimate for most spans, which are smaller than their payload escaped, but not a bound (a span repeats its
  // tool calls' arguments), so post() measures the real body.
  maxPayloads: 512,
  maxBytes: 4.5 * 1024 * 1024,
  requestBytes: datadogRequestBytes,
  target(env: LoggerEnv) {
    const intake = datadogIntake(env, SPANS_INTAKE);
    if ('error' in intake) return intake;
    const settings = datadogSettings(env);
    const mlApp = envText(env, 'DD_LLMOBS_ML_APP') ?? settings.service;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (intake.apiKey) headers['dd-api-key'] = intake.apiKey;
    return {
      where: new URL(intake.url).origin,
      post: async (segments): Promise<PostResult> => {
        let batch: ReturnType<typeof spansOf>;
        let body: Uint8Array;
        try {
          batch = spansOf(segments, settings, Date.now());
          body = spansBody(batch.spans, settings, mlApp);
        } catch (err) {
          return unreadable(err);
        }
        // Never a request the intake would refuse for its size: the dispatcher splits it, as after a 413.
        if (body.byteLength > DATADOG_MAX_REQUEST_BYTES) return { ok: false, retry: false, reason: `${body.byteLength} bytes of spans, over Datadog's 5 MB a request` };
        if (batch.spans.length) {
          // 202 is the intake's "accepted"; an Agent or a proxy in front may answer 200.
          const result = await postClassified(intake.url, { headers, body }, (s) => s === 202 || s === 200);
          if (!result.ok) return result;
        }
        if (!batch.stale.length) return { ok: true };
        // A retry only ages them more (a dead-letter replay a day on): dropped, and counted as the callback's failure.
        log.error(`datadog_llm_observability callback: the spans of calls ${batch.stale.join(', ')} dropped: started over 24 hours ago, older than Datadog's intake takes`);
        return { ok: true, dropped: `${batch.stale.length} spans over 24 hours old dropped (Datadog's intake takes none older)` };
      },
    };
  },
};
