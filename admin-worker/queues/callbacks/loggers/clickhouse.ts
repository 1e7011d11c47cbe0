/**
 * LiteLLM's `clickhouse` callback (ClickHouseSpendLogger): each call, success or failure, as one row of
 * `<CLICKHOUSE_DATABASE>.spend_logs` (clickhouse-row.ts), a batch as one insert over ClickHouse's HTTP interface:
 * `POST <CLICKHOUSE_URL>/?query=INSERT INTO ... FORMAT JSONEachRow` with the rows as the body, and the settings
 * LiteLLM's writer sends (async_insert waited for, unknown fields skipped, best-effort date parsing). The user and
 * password in CLICKHOUSE_URL's user info (LiteLLM's way), else CLICKHOUSE_USERNAME / CLICKHOUSE_PASSWORD (its older
 * logger's, with CLICKHOUSE_HOST / CLICKHOUSE_PORT for the URL), go in X-ClickHouse-User / X-ClickHouse-Key.
 * The insert comes first, as LiteLLM's logger only inserts: a user granted INSERT alone writes its rows (ClickHouse
 * checks the CREATE grant before IF NOT EXISTS). Only an insert that finds the table (or its database) missing
 * makes what is missing (clickhouse-schema.ts) and inserts again. A retried batch adds no rows: the table merges
 * rows by request id.
 */
import type { EventSegment } from '../segment.ts';
import { clickhouseResult } from './clickhouse-answer.ts';
import { noSpendRow, spendLogRow } from './clickhouse-row.ts';
import {
  CLICKHOUSE_DEFAULT_DATABASE, CLICKHOUSE_DEFAULT_RETENTION_DAYS, createDatabaseStatement, createTableStatement, plainIdentifier, spendLogsTable,
} from './clickhouse-schema.ts';
import { payloadsOf, unreadable } from './payloads.ts';
import { safeDecode } from './secrets.ts';
import { envText, type LoggerEnv, type LoggerPoster, type PostResult, postForAnswer } from './types.ts';

/** ClickHouse's HTTP port, where its older logger's CLICKHOUSE_HOST is reached without CLICKHOUSE_PORT. */
const HTTP_PORT = '8123';
/** Ports ClickHouse serves HTTPS on (8443 its own, 443 ClickHouse Cloud's): such a CLICKHOUSE_HOST is reached over https. */
const HTTPS_PORTS = new Set(['8443', '443']);

/** The exception codes (HTTP 404) that say the table is missing, never made or dropped: it alone, or its database too. */
const UNKNOWN_TABLE = '60';
const UNKNOWN_DATABASE = '81';

interface ClickHouseTarget {
  /** The HTTP interface's URL, without user info or query, ending in `/`. */
  url: string;
  database: string;
  /** The TTL of a table the logger makes, or why the settings give none: it matters only then (createMissing). */
  retentionDays: number | { error: string };
  headers: Record<string, string>;
}

/** Where the HTTP interface is: CLICKHOUSE_URL, else CLICKHOUSE_HOST (and CLICKHOUSE_PORT) as the older logger read them. */
function serverUrl(env: LoggerEnv): { url: URL; name: string } | { error: string; retry?: boolean } {
  const configured = envText(env, 'CLICKHOUSE_URL');
  const host = envText(env, 'CLICKHOUSE_HOST');
  if (!configured && !host) return { error: 'CLICKHOUSE_URL is not set for the admin Worker' };
  const name = configured ? 'CLICKHOUSE_URL' : 'CLICKHOUSE_HOST';
  let text = configured ?? host ?? '';
  if (!configured && !/^https?:\/\//i.test(text)) {
    const port = envText(env, 'CLICKHOUSE_PORT') ?? HTTP_PORT;
    text = `${HTTPS_PORTS.has(port) ? 'https' : 'http'}://${text}:${port}`;
  }
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${name} is not an http(s) URL`, retry: true };
    return { url, name };
  } catch {
    return { error: `${name} is not a URL`, retry: true };
  }
}

/**
 * The spend rows' retention in days: AGENT_TRACING_RETENTION_DAYS, else AGENT_TRACING_SPEND_LOG_RETENTION_DAYS
 * (LiteLLM's older name), refused when both are set and differ, as LiteLLM refuses them.
 */
function retentionDays(env: LoggerEnv): number | { error: string } {
  const days = envText(env, 'AGENT_TRACING_RETENTION_DAYS');
  const spendDays = envText(env, 'AGENT_TRACING_SPEND_LOG_RETENTION_DAYS');
  if (days !== undefined && spendDays !== undefined && days !== spendDays) {
    return { error: 'AGENT_TRACING_RETENTION_DAYS and AGENT_TRACING_SPEND_LOG_RETENTION_DAYS differ: set one' };
  }
  const text = days ?? spendDays;
  if (text === undefined) return CLICKHOUSE_DEFAULT_RETENTION_DAYS;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) {
    return { error: `${days !== undefined ? 'AGENT_TRACING_RETENTION_DAYS' : 'AGENT_TRACING_SPEND_LOG_RETENTION_DAYS'} is not a positive whole number` };
  }
  return n;
}

/**
 * The server, database, retention and credentials from the admin Worker's environment, or why they make none:
 * `retry` when a setting is there but wrong, so the rows wait on the Queue for its mending. A wrong retention
 * is kept in the target instead: only a table the logger makes uses it, so it holds back no insert.
 */
export function clickhouseTarget(env: LoggerEnv): ClickHouseTarget | { error: string; retry?: boolean } {
  const server = serverUrl(env);
  if ('error' in server) return server;
  const { url } = server;
  // Credentials in the URL are LiteLLM's; they go in headers, never in a URL a log line or an error could quote.
  const user = url.username ? safeDecode(url.username) : envText(env, 'CLICKHOUSE_USERNAME');
  const password = url.username || url.password ? safeDecode(url.password) : envText(env, 'CLICKHOUSE_PASSWORD');
  const database = envText(env, 'CLICKHOUSE_DATABASE') ?? CLICKHOUSE_DEFAULT_DATABASE;
  if (!plainIdentifier(database)) return { error: 'CLICKHOUSE_DATABASE is not a plain name (letters, digits, underscores)', retry: true };
  const headers: Record<string, string> = {};
  if (user || typeof password === 'string') headers['x-clickhouse-user'] = user || 'default';
  if (typeof password === 'string' && password !== '') headers['x-clickhouse-key'] = password;
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return { url: `${url.origin}${path}`, database, retentionDays: retentionDays(env), headers };
}

const encoder = new TextEncoder();

/** One statement or insert: what became of it, and ClickHouse's exception code when it named one (clickhouse-answer.ts). */
async function send(target: ClickHouseTarget, query: Record<string, string>, body: string): Promise<{ result: PostResult; code?: string }> {
  const url = `${target.url}?${new URLSearchParams(query).toString()}`;
  const answered = await postForAnswer(url, { headers: { ...target.headers, 'content-type': 'text/plain; charset=utf-8' }, body: encoder.encode(body) });
  if ('ok' in answered) return { result: answered };
  return clickhouseResult(answered.status, answered.answer, answered.headers.get('x-clickhouse-exception-code'));
}

/** Statements sent in turn, up to the first that fails. */
async function sendEach(target: ClickHouseTarget, statements: readonly string[]): Promise<{ result: PostResult; code?: string }> {
  for (const statement of statements) {
    const sent = await send(target, {}, statement);
    if (!sent.result.ok) return sent;
  }
  return { result: { ok: true } };
}

/**
 * Makes what the insert found missing (IF NOT EXISTS): the table alone on UNKNOWN_TABLE, the database first on
 * UNKNOWN_DATABASE (or when CREATE TABLE meets it: dropped meanwhile). So a user granted CREATE TABLE on the
 * database but not CREATE DATABASE never sends the statement ClickHouse would refuse it, even for a database that
 * exists (the grant is checked before IF NOT EXISTS). A wrong retention fails here, the only statement using it.
 * A failure (any status: the setup, never the rows, is at fault) is retried.
 */
async function createMissing(target: ClickHouseTarget, missing: string): Promise<PostResult> {
  const failed = (reason: string): PostResult => ({ ok: false, retry: true, reason: `creating ${spendLogsTable(target.database)} failed: ${reason}` });
  const days = target.retentionDays;
  if (typeof days !== 'number') return failed(days.error);
  const database = createDatabaseStatement(target.database);
  const table = createTableStatement(target.database, days);
  let made = await sendEach(target, missing === UNKNOWN_DATABASE ? [database, table] : [table]);
  if (made.code === UNKNOWN_DATABASE && missing !== UNKNOWN_DATABASE) made = await sendEach(target, [database, table]);
  const { result } = made;
  return result.ok ? result : failed(result.reason);
}

/**
 * The segments' payloads as one insert, made again after the table when ClickHouse says it is missing. Answers
 * (a 200 carrying an exception read as the status it maps to): 2xx taken; 400/413 (rows ClickHouse cannot parse, a
 * query too large) refuse the rows, for the dispatcher to split; anything else is retried: 401 (no password) and
 * 403 (516 AUTHENTICATION_FAILED, 497 ACCESS_DENIED), which the operator mends, 404, 408, 429, 5xx, no answer.
 */
async function insert(target: ClickHouseTarget, segments: readonly EventSegment[]): Promise<PostResult> {
  let rows: string[];
  try {
    rows = payloadsOf(segments).filter((p) => !noSpendRow(p)).map((p) => JSON.stringify(spendLogRow(p)));
  } catch (err) {
    return unreadable(err);
  }
  if (!rows.length) return { ok: true };
  const query = {
    query: `INSERT INTO ${spendLogsTable(target.database)} FORMAT JSONEachRow`,
    async_insert: '1',
    wait_for_async_insert: '1',
    input_format_skip_unknown_fields: '1',
    date_time_input_format: 'best_effort',
  };
  const body = rows.join('\n');
  const first = await send(target, query, body);
  if (first.code !== UNKNOWN_TABLE && first.code !== UNKNOWN_DATABASE) return first.result;
  const made = await createMissing(target, first.code);
  return made.ok ? (await send(target, query, body)).result : made;
}

export const clickhousePoster: LoggerPoster = {
  // One insert a batch, as LiteLLM's writer flushes its queue; kept well under what one HTTP request should carry.
  maxPayloads: 500,
  maxBytes: 8 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = clickhouseTarget(env);
    if ('error' in target) return target;
    return { where: new URL(target.url).origin, post: (segments) => insert(target, segments) };
  },
};
