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

export interface DatadogSettings { source: string; service: string; hostname: string; baseTags: string[] }

/** LiteLLM's Datadog settings (datadog_handler.py), shared with the datadog_llm_observability logger. */
export function datadogSettings(env: LoggerEnv): DatadogSettings {
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

/** A payload's tags as LiteLLM's `get_datadog_tags` makes them: the base tags, each request tag, the team. */
export function datadogTags(payload: Json, settings: DatadogSettings): string[] {
  const tags = [...settings.baseTags];
  if (Array.isArray(payload.request_tags)) for (const tag of payload.request_tags) tags.push(`request_tag:${String(tag)}`);
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const team = m.user_api_key_team_alias || m.team_alias || m.user_api_key_team_id || m.team_id;
  if (team) tags.push(`team:${String(team)}`);
  return tags;
}

/** A payload's Datadog log, as LiteLLM's `create_datadog_logging_payload` makes it. */
export function datadogLog(payload: Json, settings: DatadogSettings): Json {
  return {
    ddsource: settings.source,
    ddtags: datadogTags(payload, settings).join(','),
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

/** Where a Datadog logger's intake is: its path, the intake's host prefix before the site, the Agent's port. */
export interface DatadogIntakeSpec {
  /** The intake's path, on the site's host, the Agent and DD_BASE_URL alike (LiteLLM's). */
  path: string;
  /** The host before `<DD_SITE>`: `http-intake.logs.` for logs, `api.` for LLM Observability. */
  hostPrefix: string;
  /** The variable naming the Agent's port, and the port when it is unset. */
  portVar: string;
  defaultPort: string;
  /** The intake's name in a setting's error. */
  label: string;
}

/**
 * A Datadog logger's intake URL and API key, or why there is none, as LiteLLM reads them: `DD_BASE_URL` + path
 * when set, else an Agent (`LITELLM_DD_AGENT_HOST`, its port variable), else `https://<hostPrefix><DD_SITE>` + path.
 */
export function datadogIntake(env: LoggerEnv, spec: DatadogIntakeSpec): { url: string; apiKey?: string } | { error: string } {
  const apiKey = envText(env, 'DD_API_KEY');
  const agentHost = envText(env, 'LITELLM_DD_AGENT_HOST');
  const base = envText(env, 'DD_BASE_URL');
  let url: string;
  if (base) url = `${base.replace(/\/+$/, '')}${spec.path}`;
  else if (agentHost) url = `http://${agentHost}:${envText(env, spec.portVar) ?? spec.defaultPort}${spec.path}`;
  else {
    const site = envText(env, 'DD_SITE');
    if (!site) return { error: 'DD_SITE is not set for the admin Worker (e.g. us5.datadoghq.com)' };
    url = `https://${spec.hostPrefix}${site}${spec.path}`;
  }
  // The Agent sends on with its own key; the intake (and whatever DD_BASE_URL fronts) wants one.
  if (!apiKey && !agentHost) return { error: 'DD_API_KEY is not set for the admin Worker' };
  const checked = httpUrl(url, spec.label);
  if ('error' in checked) return checked;
  return { url: checked.toString(), ...(apiKey ? { apiKey } : {}) };
}

const LOGS_INTAKE: DatadogIntakeSpec = {
  path: '/api/v2/logs', hostPrefix: 'http-intake.logs.', portVar: 'LITELLM_DD_AGENT_PORT', defaultPort: '10518', label: 'the Datadog intake URL',
};

export const datadogPoster: LoggerPoster = {
  // Datadog's intake takes 1,000 logs and 5 MB uncompressed a request (1 MB a log: a payload fits a queue
  // message, far less). Grouped by the escaped size (datadogRequestBytes), kept under the limit with room to spare.
  maxPayloads: 1000,
  maxBytes: 4.5 * 1024 * 1024,
  requestBytes: datadogRequestBytes,
  target(env: LoggerEnv) {
    const intake = datadogIntake(env, LOGS_INTAKE);
    if ('error' in intake) return intake;
    const settings = datadogSettings(env);
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
