/**
 * Views over a request's headers that every call reads: one read into a Map, and one that hides credentials
 * from what providers and telemetry sinks see. Free of the Workers' types, so unit tests can run them as calls do.
 */
import type { RequestHeaders } from '../providers/types.ts';

const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key', 'cookie', 'x-litellm-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key'];

/**
 * The request's headers read once, into a Map: each Headers.get() is a call
 * into workerd (the name and the value converted, a lookup), and a model call
 * reads about fifteen (its key, overrides, end user, tags, spend-log and
 * Langfuse headers) and walks them all once for Langfuse.
 */
export function headerSnapshot(headers: Headers): RequestHeaders {
  const byName = new Map<string, string>();
  // Names come lower-cased, a repeated header's values joined as get() joins them.
  headers.forEach((value, name) => byName.set(name, value));
  return {
    get: (name) => byName.get(name.toLowerCase()) ?? null,
    forEach: (each) => byName.forEach(each),
  };
}

/**
 * The request's headers without any credential: what providers and telemetry
 * sinks may read. A view over the request's own headers (nothing copied: a
 * copy per request is measurable), which never shows a credential: the usual key headers, and the ones
 * keys come in by config (`litellm_key_header_name`, a config endpoint's `litellm_user_api_key`) or where a
 * browser puts one (a WebSocket's subprotocols).
 */
export function withoutCredentials(headers: RequestHeaders, keyHeaders?: string | readonly (string | undefined)[]): RequestHeaders {
  const secret = (name: string) => CREDENTIAL_HEADERS.includes(name) || (typeof keyHeaders === 'string' ? name === keyHeaders : keyHeaders?.includes(name) === true);
  return {
    get: (name) => (secret(name.toLowerCase()) ? null : headers.get(name)),
    forEach: (each) => headers.forEach((value, name) => {
      if (!secret(name)) each(value, name);
    }),
  };
}
