/**
 * LiteLLM's `generic_api` callback (GenericAPILogger; `custom_callback_api` is its older name): a batch of
 * StandardLoggingPayloads POSTed as one JSON array to `GENERIC_LOGGER_ENDPOINT`, with
 * `Content-Type: application/json` and the headers `GENERIC_LOGGER_HEADERS` lists (`k=v,k2=v2`, split at
 * the first `=`, trimmed, as LiteLLM parses it). The payloads' bytes are forwarded as the gateway made them.
 */
import { joinedBody } from '../segment.ts';
import { log } from '../../../../worker/telemetry/log.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, postClassified } from './types.ts';

/** `k=v,k2=v2` → headers; an item without `=` is skipped (LiteLLM's parsing). */
export function genericLoggerHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of (value ?? '').split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const name = item.slice(0, at).trim();
    if (name) headers[name] = item.slice(at + 1).trim();
  }
  return headers;
}

/**
 * The request's headers: `Content-Type: application/json`, then the configured ones merged by name whatever
 * its case (a configured Content-Type replaces the default, as in LiteLLM's dict update). Names or values fetch
 * would refuse are returned apart, by name, so one bad setting never turns every delivery into a failure.
 */
export function requestHeaders(configured: Record<string, string>): { headers: Record<string, string>; invalid: string[] } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const invalid: string[] = [];
  for (const [name, value] of Object.entries(configured)) {
    try {
      new Headers([[name, value]]);
    } catch {
      invalid.push(name);
      continue;
    }
    headers[name.toLowerCase()] = value;
  }
  return { headers, invalid };
}

/**
 * How a log line names a header fetch refused: its position and, when it is a plain word, its name's first
 * word. Never the whole name: a mistyped `Authorization: Bearer <token>=...` holds the token in its name.
 */
export function invalidHeaderLabel(name: string, position: number): string {
  const first = /^[A-Za-z][A-Za-z-]{0,39}(?=$|[^A-Za-z0-9-])/.exec(name.trim())?.[0];
  return `header ${position}${first ? ` (its name starts "${first}")` : ''}`;
}

export const genericApiPoster: LoggerPoster = {
  maxPayloads: 1000,
  maxBytes: 3 * 1024 * 1024,
  target(env: LoggerEnv) {
    const endpoint = envText(env, 'GENERIC_LOGGER_ENDPOINT');
    if (!endpoint) return { error: 'no endpoint: set GENERIC_LOGGER_ENDPOINT for the admin Worker' };
    const url = httpUrl(endpoint, 'GENERIC_LOGGER_ENDPOINT');
    if ('error' in url) return url;
    const configured = genericLoggerHeaders(envText(env, 'GENERIC_LOGGER_HEADERS'));
    const { headers, invalid } = requestHeaders(configured);
    // A header fetch would refuse is a setting to fix, not a delivery to retry: left out, named by position.
    const names = Object.keys(configured);
    for (const name of invalid) log.error(`generic_api callback: GENERIC_LOGGER_HEADERS ${invalidHeaderLabel(name, names.indexOf(name) + 1)} is not a valid HTTP header; left out`);
    return {
      where: url.origin,
      post: (segments) => postClassified(url.toString(), { headers, body: joinedBody('[', segments, ']') }, (s) => s >= 200 && s < 300),
    };
  },
};
