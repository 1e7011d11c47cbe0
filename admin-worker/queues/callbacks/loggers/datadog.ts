/**
 * LiteLLM's `datadog` callback (DataDogLogger): each StandardLoggingPayload as one Datadog log
 * `{ddsource, ddtags, hostname, message, service, status}` (`message` the payload's JSON text, `status`
 * `info`, or `error` for a failed call: LiteLLM's DataDogStatus values), a batch POSTed gzip-compressed to the Logs intake
 * `https://http-intake.logs.<DD_SITE>/api/v2/logs` with the `DD-API-KEY` header; or to a Datadog Agent
 * (`LITELLM_DD_AGENT_HOST`, `LITELLM_DD_AGENT_PORT` default 10518, API key optional), or to
 * `DD_BASE_URL` + `/api/v2/logs` (LiteLLM's override, for tests and proxies). The intake answers 202.
 */
import { gzipSync } from 'node:zlib';
import type { EventSegment } from '../segment.ts';
import { isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, postClassified } from './types.ts';

const encoder = new TextEncoder();

interface DatadogSettings { source: string; service: string; hostname: string; baseTags: string[] }

function settingsOf(env: LoggerEnv): DatadogSettings {
  const service = envText(env, 'DD_SERVICE') ?? 'litellm-server';
  const hostname = envText(env, 'HOSTNAME') ?? '';
  return {
    source: envText(env, 'DD_SOURCE') ?? 'litellm',
    service,
    hostname,
    baseTags: [
      `env:${envText(env, 'DD_ENV') ?? 'unknown'}`, `service:${service}`, `version:${envText(env, 'DD_VERSION') ?? 'unknown'}`,
      `HOSTNAME:${hostname}`, `POD_NAME:${envText(env, 'POD_NAME') ?? 'unknown'}`,
    ],
  };
}

/** A payload's Datadog log, as LiteLLM's `create_datadog_logging_payload` makes it. */
export function datadogLog(payload: Json, settings: DatadogSettings): Json {
  const tags = [...settings.baseTags];
  if (Array.isArray(payload.request_tags)) for (const tag of payload.request_tags) tags.push(`request_tag:${String(tag)}`);
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const team = m.user_api_key_team_alias || m.team_alias || m.user_api_key_team_id || m.team_id;
  if (team) tags.push(`team:${String(team)}`);
  return {
    ddsource: settings.source,
    ddtags: tags.join(','),
    hostname: settings.hostname,
    message: JSON.stringify(payload),
    service: settings.service,
    status: payload.status === 'failure' ? 'error' : 'info',
  };
}

/** Datadog's intake limit: 5 MB of uncompressed JSON a request. */
export const DATADOG_MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** What a log adds around its payload's text (the other fields and the tags), allowed generously for the estimate. */
const LOG_ENVELOPE_BYTES = 1024;

/**
 * A segment's bytes once its payloads sit as JSON strings in logs' `message`: every `"` and `\` of their JSON is
 * escaped again, and each log has its envelope. An estimate for grouping; post() measures the real body.
 */
export function datadogRequestBytes(segment: EventSegment): number {
  let escapes = 0;
  for (const b of segment.bytes) if (b === 34 || b === 92) escapes++;
  return segment.bytes.byteLength + escapes + segment.events * LOG_ENVELOPE_BYTES;
}

/** The request body before compression: the segments' payloads as Datadog logs, a JSON array. */
function intakeBody(segments: readonly EventSegment[], settings: DatadogSettings): Uint8Array {
  const logs: Json[] = [];
  for (const payload of payloadsOf(segments)) logs.push(datadogLog(payload, settings));
  return encoder.encode(JSON.stringify(logs));
}

/** The intake URL and API key, or why there is none. */
function intakeOf(env: LoggerEnv): { url: string; apiKey?: string } | { error: string } {
  const apiKey = envText(env, 'DD_API_KEY');
  const agentHost = envText(env, 'LITELLM_DD_AGENT_HOST');
  const base = envText(env, 'DD_BASE_URL');
  let url: string;
  if (base) url = `${base.replace(/\/+$/, '')}/api/v2/logs`;
  else if (agentHost) url = `http://${agentHost}:${envText(env, 'LITELLM_DD_AGENT_PORT') ?? '10518'}/api/v2/logs`;
  else {
    const site = envText(env, 'DD_SITE');
    if (!site) return { error: 'DD_SITE is not set for the admin Worker (e.g. us5.datadoghq.com)' };
    url = `https://http-intake.logs.${site}/api/v2/logs`;
  }
  // The Agent takes logs without a key; the intake (and whatever DD_BASE_URL fronts) wants one.
  if (!apiKey && !agentHost) return { error: 'DD_API_KEY is not set for the admin Worker' };
  const checked = httpUrl(url, 'the Datadog intake URL');
  if ('error' in checked) return checked;
  return { url: checked.toString(), ...(apiKey ? { apiKey } : {}) };
}

export const datadogPoster: LoggerPoster = {
  // Datadog's intake takes 1,000 logs and 5 MB uncompressed a request (1 MB a log: a payload fits a queue
  // message, far less). Grouped by the escaped size (datadogRequestBytes), kept under the limit with room to spare.
  maxPayloads: 1000,
  maxBytes: 4.5 * 1024 * 1024,
  requestBytes: datadogRequestBytes,
  target(env: LoggerEnv) {
    const intake = intakeOf(env);
    if ('error' in intake) return intake;
    const settings = settingsOf(env);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    if (intake.apiKey) headers['dd-api-key'] = intake.apiKey;
    return {
      where: new URL(intake.url).origin,
      post: async (segments) => {
        let plain: Uint8Array;
        try {
          plain = intakeBody(segments, settings);
        } catch (err) {
          return unreadable(err);
        }
        // Never a request the intake would refuse for its size: the dispatcher splits it, as after a 413.
        if (plain.byteLength > DATADOG_MAX_REQUEST_BYTES) return { ok: false, retry: false, reason: `${plain.byteLength} bytes of logs, over Datadog's 5 MB a request` };
        const body = gzipSync(plain);
        // 202 is Datadog's "accepted"; an Agent or a proxy in front may answer 200.
        return postClassified(intake.url, { headers, body }, (s) => s === 202 || s === 200);
      },
    };
  },
};
