import { GatewayError } from '../errors.ts';
import type { OutgoingRequest } from './types.ts';

/** LiteLLM's RawRequestTypedDict: what a call would send, its credentials masked. */
export interface ShownRequest {
  raw_request_api_base: string;
  raw_request_body: unknown;
  raw_request_headers: Record<string, string>;
}

// Header and query names that carry a credential, whoever set them (an adapter, a deployment's extra_headers).
const CREDENTIAL_NAME = /^(?:authorization|proxy-authorization|cookie|api-key|x-api-key|x-goog-api-key|ocp-apim-subscription-key)$|key|token|secret|passw|auth|credential|signature|session/i;
// Values that look like a credential under any name: an auth scheme, or a provider key's usual prefix.
const CREDENTIAL_VALUE = /^(?:(?:bearer|basic|token)\s|(?:sk|pk|rk|ak|gsk|xai|hf)[-_]|AKIA|ASIA|AIza|eyJ)/i;
// Shorter "secrets" would mask ordinary text everywhere; a credential-named header is masked whole regardless.
const MIN_SECRET = 4;
/** Headers shown as they are: the protocol's own, which carry no credential. Any other header's value is masked (a deployment's extra_headers may hold one under any name). */
const PLAIN_HEADER = /^(?:content-type|content-length|accept|accept-encoding|user-agent|anthropic-version|anthropic-beta|openai-organization|openai-project|openai-beta|x-stainless-[a-z-]+|api-version)$/i;
/** A placeholder the adapter writes where a credential is made at send time (nothing secret in it). */
const PLACEHOLDER = /<[^>]*(?:when sent|fetched)[^>]*>/;

/**
 * An adapter's outgoing request as it may be shown to a caller: every credential the adapter named masked
 * wherever it appears (URL, headers, body) as keys are everywhere (`sk-...ABCD`), and every header or query
 * value whose name or shape says credential masked whole (`Bearer sk-...ABCD`); placeholders (a signature
 * or token made at send time) shown as they are. A credential left anywhere is a 500, never an answer.
 */
export function shownRequest(request: OutgoingRequest): ShownRequest {
  const secrets = [...new Set(request.secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET))]
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((out, s) => out.split(s).join(hint(s)).split(encodeURIComponent(s)).join(hint(s)), text);
  // A placeholder header is shown as the adapter wrote it: by its name and its value (a client's or a deployment's header of that name is masked).
  const placeholders = new Set((request.placeholders ?? []).map((name) => name.toLowerCase()));
  const isPlaceholder = (name: string, value: string) => placeholders.has(name.toLowerCase()) && PLACEHOLDER.test(value);

  const url = new URL(request.url);
  for (const [name, value] of [...url.searchParams]) {
    if (CREDENTIAL_NAME.test(name) || CREDENTIAL_VALUE.test(value)) url.searchParams.set(name, masked(value));
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (isPlaceholder(name, value)) headers[name] = scrub(value);
    else headers[name] = CREDENTIAL_NAME.test(name) || CREDENTIAL_VALUE.test(value) || !PLAIN_HEADER.test(name) ? masked(value) : scrub(value);
  }
  const shown: ShownRequest = { raw_request_api_base: scrub(url.toString()), raw_request_body: scrubbed(request.body, scrub), raw_request_headers: headers };
  const text = JSON.stringify(shown);
  if (secrets.some((s) => text.includes(s))) {
    throw new GatewayError('The request could not be shown without its credentials', { status: 500, type: 'internal_server_error' });
  }
  return shown;
}

/** A credential's value masked whole: an auth scheme kept (`Bearer ...ABCD`), the rest as hint() shows it. */
function masked(value: string): string {
  const scheme = /^(\w+)\s+(\S.*)$/.exec(value);
  return scheme ? `${scheme[1]} ${hint(scheme[2]!)}` : hint(value);
}

/** What of a credential is shown: its last four characters when it is long enough that they give nothing away, else nothing. */
function hint(secret: string): string {
  return secret.length >= 20 ? `...${secret.slice(-4)}` : '<redacted>';
}

function scrubbed(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubbed(v, scrub));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubbed(v, scrub)]));
  }
  return value;
}
