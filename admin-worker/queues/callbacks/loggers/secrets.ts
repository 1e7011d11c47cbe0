/**
 * The secrets the admin Worker holds for the standard loggers, and their removal from what a destination or a
 * network error says: a destination may echo a header or a key, a network error may quote the URL (a token in
 * its query). Used for every reason that leaves a poster: log lines, callback-failure alerts and
 * /health/services answers. A reason is scrubbed whole and cut only after, so no secret is cut in two.
 */
import { runtimeConfig } from '../../../../worker/config/runtime.ts';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import { genericLoggerHeaders } from './generic-api.ts';
import type { LoggerEnv } from './types.ts';

/**
 * Values a reason must never quote: each variable the admin Worker holds whose name says it is a credential or
 * a destination (keys, secrets, tokens, the service account, endpoints, URLs and API bases such as LAGO_API_BASE,
 * and headers; not an `*_ACCOUNT_NAME`), trimmed as the posters send
 * them; each auth-like configured header's value with its token after an auth scheme and a Basic value's user
 * and password; a configured URL's normalized form, password, long path segments and credential-like query
 * values; a service account key's private key in its forms; and the s3 params' own credentials (an
 * `os.environ/NAME` one resolved). Each also as JSON and a URL would escape it. Longest first, so a secret
 * holding another is taken out whole.
 */
export function secretsOf(env: LoggerEnv, params: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (typeof raw !== 'string' || !/KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|ACCOUNT|ENDPOINT|HEADERS|_URL$|_BASE$|_DSN$|_URL_OVERRIDE$/.test(name)) continue;
    // An account's name (AZURE_STORAGE_ACCOUNT_NAME, often a word: `logs`) is no secret; taken out, it would blank that word in every reason.
    if (name.endsWith('_ACCOUNT_NAME')) continue;
    const value = raw.trim();
    if (value.length < 4) continue;
    out.push(value);
    // A DSN's public key is its user info (SENTRY_DSN): sent in X-Sentry-Auth, never quoted.
    if (name.endsWith('_DSN')) out.push(...dsnKey(value));
    if (name.endsWith('_HEADERS')) {
      for (const [header, v] of Object.entries(genericLoggerHeaders(value))) if (AUTH_HEADER.test(header)) out.push(...headerSecrets(v));
    }
    out.push(...urlSecrets(value));
    if (value.startsWith('{')) out.push(...keyFileSecrets(value));
  }
  for (const [name, value] of Object.entries(params ?? {})) {
    if (typeof value !== 'string' || !/key|secret|token/.test(name)) continue;
    // An `os.environ/NAME` credential is the variable's value, whatever the variable is called.
    const ref = /^os\.environ\/(.+)$/.exec(value.trim())?.[1]?.trim();
    const resolved = ref ? env[ref] : value;
    if (typeof resolved === 'string') out.push(resolved.trim());
  }
  return withEscapes(out);
}

/**
 * The secrets of 4 characters or more, each also as a reply may quote it: percent-encoded (a URL's query) and
 * JSON-escaped with and without its `/` escaped; deduplicated, longest first.
 */
export function withEscapes(secrets: readonly string[]): string[] {
  const kept = secrets.filter((s) => s.length >= 4);
  for (const s of [...kept]) {
    const json = JSON.stringify(s).slice(1, -1);
    kept.push(encodeURIComponent(s), json, s.replaceAll('/', '\\/'), json.replaceAll('/', '\\/'));
  }
  return [...new Set(kept)].sort((a, b) => b.length - a.length);
}

/** A DSN's public key (and secret key, in the older form), as written and decoded. */
function dsnKey(value: string): string[] {
  try {
    const url = new URL(value);
    return [url.username, safeDecode(url.username), url.password, safeDecode(url.password)].filter(Boolean);
  } catch {
    return [];
  }
}

/** Header names whose values are credentials (Authorization, x-api-key, cookies, tokens): only these are scrubbed. */
const AUTH_HEADER = /auth|key|token|secret|cookie|password|credential|session|signature/i;

/** A query parameter's name that says its value is a credential (token, key, sig, secret, auth, password, code). */
const CREDENTIAL_PARAM = /token|key|sig|secret|auth|pass|code|credential/i;

/** A value a query may carry that reads as words (`require`, `verify-full`), not as a credential. */
const PLAIN_WORDS = /^[a-z]+(?:[-_.][a-z]+)*$/;

/**
 * What a configured URL holds that an error may quote: its normalized form (a trailing `/` added), its
 * password, each path segment of 16 characters or more (an intake's token in its path), and each query value
 * whose name says credential or that is 8 characters or more and not plain words.
 */
export function urlSecrets(value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  const out = [url.href];
  if (url.password) out.push(url.password, safeDecode(url.password));
  for (const segment of url.pathname.split('/')) if (segment.length >= 16) out.push(segment, safeDecode(segment));
  for (const [name, v] of url.searchParams) if (CREDENTIAL_PARAM.test(name) || (v.length >= 8 && !PLAIN_WORDS.test(v))) out.push(v);
  return out;
}

/** A URL part percent-decoded, as it is when taken out of a URL; as it is when it does not decode. */
export const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * A header value and what a destination may quote of it: the token after an auth scheme (`Bearer sk-...`: its
 * last whitespace-separated part) and, for `Basic`, the decoded `user:password`, the user and the password.
 */
export function headerSecrets(value: string): string[] {
  const out = [value];
  const parts = value.trim().split(/\s+/);
  const token = parts.at(-1) ?? '';
  if (parts.length > 1) out.push(token);
  if (parts.length > 1 && /^basic$/i.test(parts[0] ?? '')) {
    try {
      const decoded = atob(token);
      const at = decoded.indexOf(':');
      out.push(decoded, ...(at < 0 ? [] : [decoded.slice(0, at), decoded.slice(at + 1)]));
    } catch {
      // not base64: the token itself is already out
    }
  }
  return out;
}

/**
 * A service account key's private key: as parsed (newlines), as written in JSON (`\n` escapes), with any `\\n`
 * escapes made newlines, and each base64 line of its body and the body joined (a reply may wrap it anew).
 */
export function keyFileSecrets(json: string): string[] {
  let key: unknown;
  try {
    key = (JSON.parse(json) as { private_key?: unknown }).private_key;
  } catch {
    return [];
  }
  if (typeof key !== 'string') return [];
  const lines = key.replace(/\\n/g, '\n').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  return [key, JSON.stringify(key).slice(1, -1), key.replace(/\\n/g, '\n'), lines.join(''), ...lines];
}

const REDACTED = '[redacted]';

/**
 * The text with every secret taken out; a `cut` text (an answer cut at its cap, maybe in the middle of a
 * secret) that ends in the first 4 or more characters of a secret is cut before them too. An uncut text keeps
 * its ending (`... Bearer` is words, not a secret's start).
 */
export function scrub(text: string, secrets: readonly string[], cut = false): string {
  let out = secrets.reduce((t, s) => (t.includes(s) ? t.split(s).join(REDACTED) : t), text);
  if (!cut) return out;
  for (const s of secrets) {
    for (let n = Math.min(s.length - 1, out.length); n >= 4; n--) {
      if (out.charCodeAt(out.length - n) === s.charCodeAt(0) && out.endsWith(s.slice(0, n))) {
        out = `${out.slice(0, out.length - n)}${REDACTED}`;
        break;
      }
    }
  }
  return out;
}

/** A reason scrubbed of the secrets (its tail too when the answer was `cut`), then cut to `max` characters (never the other way round). */
export const scrubbed = (reason: string, secrets: readonly string[], max: number, cut = false): string => scrub(reason, secrets, cut).slice(0, max);

/** How much of a scrubbed reason a log line or a callback-failure alert quotes. */
export const REASON_MAX = 500;

/**
 * The logger params whose credentials secretsOf takes out: the s3 and aws_sqs params (`litellm_settings.
 * s3_callback_params`, `aws_sqs_callback_params`; their names never clash), merged. One place, so the dispatcher
 * and /health/services scrub the same credentials.
 */
export function loggerParamSecrets(config: TollgateConfig): Record<string, unknown> {
  const l = config.litellm_settings;
  return { ...l.s3_callback_params, ...l.aws_sqs_callback_params } as Record<string, unknown>;
}

/**
 * The loggers' secrets, as the dispatcher needs them: the env's and the s3 and aws_sqs params' credentials
 * (`litellm_settings.s3_callback_params`, `aws_sqs_callback_params`, when the config loads). Read once a batch, on its first failure.
 */
export function loggerSecrets(env: LoggerEnv): string[] {
  let params: Record<string, unknown> | undefined;
  try {
    params = loggerParamSecrets(runtimeConfig(env).config);
  } catch {
    params = undefined;
  }
  return secretsOf(env, params);
}
