/**
 * The `s3` logger's object keys and download names, as LiteLLM's `get_s3_object_key` and
 * `get_s3_object_download_filename` make them: `<s3_path>/<team alias>/<key alias>/<YYYY-MM-DD>/time-<HH-MM-SS-ffffff>_<id>.json`
 * (the team and key folders only with `s3_use_team_prefix` / `s3_use_key_prefix` and an alias to use), dated
 * by the call's start (UTC), the id's `/` made `_`, bounded to S3's 1,024 bytes by shortening the file name
 * with a SHA-256 of it.
 */
import { startSeconds, utcDay } from './payloads.ts';

type Json = Record<string, unknown>;

/** S3's limit on a key's UTF-8 bytes (LiteLLM's MAX_S3_OBJECT_KEY_BYTES). */
const MAX_KEY_BYTES = 1024;
/** How much of a shortened file name is kept before its digest (LiteLLM's S3_BOUNDED_OBJECT_KEY_HEAD_BYTES). */
const HEAD_BYTES = 128;

/** A digest of bytes as lowercase hex (WebCrypto; workerd's also takes MD5). */
export async function hexDigest(algorithm: 'SHA-256' | 'MD5', data: Uint8Array): Promise<string> {
  // TextEncoder's bytes are always on an ArrayBuffer; the DOM typings (tests' tsconfig) want that said.
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** The call's start as Python's datetime fields (UTC), microseconds from the payload's epoch seconds. */
function startOf(payload: Json): { date: string; time: string } {
  const micros = Math.round(startSeconds(payload) * 1e6);
  const d = new Date(Math.floor(micros / 1000));
  return { date: utcDay(d), time: `${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}-${pad(((micros % 1e6) + 1e6) % 1e6, 6)}` };
}

/** The first `max` bytes of a text, never splitting a character. */
function truncated(value: string, max: number): string {
  let out = '';
  let used = 0;
  for (const ch of value) {
    const b = bytes(ch);
    if (used + b > max) break;
    out += ch;
    used += b;
  }
  return out;
}

/**
 * A key or team alias as key folders: its `/` kept (LiteLLM writes the alias as it is), but a `.` or `..` segment
 * made `_` / `__`, as a URL would resolve it (`../../other-team/x` would land in another team's folder) and S3
 * would then write, and a prefix-scoped IAM policy judge, another key than the one LiteLLM's would be.
 */
const aliasOf = (payload: Json, field: string): string | undefined => {
  const m = payload.metadata;
  const v = m && typeof m === 'object' ? (m as Json)[field] : undefined;
  return typeof v === 'string' && v ? v.split('/').map((s) => (s === '.' || s === '..' ? s.replaceAll('.', '_') : s)).join('/') : undefined;
};

/** A payload's object key (LiteLLM's `get_s3_object_key` with `get_logging_id` as the file name). */
export async function s3ObjectKey(payload: Json, settings: { path: string; teamPrefix: boolean; keyPrefix: boolean }): Promise<string> {
  const parts: string[] = [];
  const team = settings.teamPrefix ? aliasOf(payload, 'user_api_key_team_alias') : undefined;
  if (team) parts.push(team);
  const key = settings.keyPrefix ? aliasOf(payload, 'user_api_key_alias') : undefined;
  if (key) parts.push(key);
  const prefix = (settings.path ? `${settings.path.replace(/\/+$/, '')}/` : '') + (parts.length ? `${parts.join('/')}/` : '');
  const { date, time } = startOf(payload);
  const fileName = `time-${time}_${String(payload.id ?? '')}`;
  const sanitized = fileName.replaceAll('/', '_');
  const whole = `${prefix}${date}/${sanitized}.json`;
  if (bytes(whole) <= MAX_KEY_BYTES) return whole;
  // The file name gives way first (a prefix scoped IAM policy keeps matching); a prefix too long for any is cut.
  const digest = await hexDigest('SHA-256', new TextEncoder().encode(fileName));
  const room = MAX_KEY_BYTES - bytes(`${date}/.json`) - bytes(prefix);
  const head = truncated(sanitized, Math.min(HEAD_BYTES, Math.max(0, room - digest.length - 1)));
  const bounded = head ? `${head}_${digest}` : digest;
  const keptPrefix = bytes(prefix) + bytes(bounded) + bytes(`${date}/.json`) <= MAX_KEY_BYTES ? prefix : `${truncated(prefix, MAX_KEY_BYTES - bytes(`${date}/.json`) - bytes(bounded) - 1).replace(/\/+$/, '')}/`;
  return `${keptPrefix}${date}/${bounded}.json`;
}

/** The object's `Content-Disposition` file name (LiteLLM's `get_s3_object_download_filename`), quotes, `/`, `\\` and all but printable ASCII made `_` (it is a header). */
export function s3DownloadFilename(payload: Json): string {
  const { date, time } = startOf(payload);
  const name = `time-${date}T${time}_${String(payload.id ?? '').replace(/[^\x20-\x7e]|["/\\]/g, '_')}`;
  return `${truncated(name, 250)}.json`;
}
