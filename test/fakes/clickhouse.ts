/**
 * A fake ClickHouse HTTP interface on loopback, for the statements the clickhouse logger sends: `POST /` with the
 * SQL in the `query` parameter and the data as the body (an INSERT ... FORMAT JSONEachRow), or the SQL as the body
 * (CREATE DATABASE / CREATE TABLE ... IF NOT EXISTS). It checks the credentials (X-ClickHouse-User / X-ClickHouse-Key,
 * or Basic), keeps each table's columns, engine and rows, and parses rows as ClickHouse does for the column types
 * the spend_logs table uses (an unknown field refused unless input_format_skip_unknown_fields, a DateTime64 in ISO
 * form only with date_time_input_format=best_effort). Only the settings it knows are taken (others: 115
 * UNKNOWN_SETTING). A ReplacingMergeTree keeps one row per ORDER BY key, as `SELECT ... FINAL` shows it, and every
 * row inserted is counted too; an insert_deduplication_token already seen inserts nothing. A second user may be
 * granted INSERT only, a third INSERT and CREATE TABLE but not CREATE DATABASE: a CREATE ... IF NOT EXISTS without
 * its grant is refused (497 ACCESS_DENIED) even when what it makes exists, as ClickHouse checks the grant first. Errors are ClickHouse's: a text body `Code: N. DB::Exception: ... (NAME)` with
 * X-ClickHouse-Exception-Code and the status ClickHouse maps the code to; the next statements can be failed with a
 * status and code, echoing the key sent; a 200 so failed is an exception met mid-answer, in the body (framed by
 * `__exception__`, as recent servers write it) and, unless `header: false`, in the header too.
 */
import { serveBodies } from './fake-server.ts';

export interface ClickHouseRequest { query: string; params: Record<string, string>; headers: Record<string, string>; body: string }

interface Table { engine: string; columns: Map<string, string>; key: string[]; rows: Record<string, unknown>[] }

export interface FakeClickHouse {
  url: string;
  /** Every request that passed authentication, in order. */
  requests: ClickHouseRequest[];
  databases: Set<string>;
  /** Tables by `db.name`. */
  tables: Map<string, Table>;
  /** Rows of a table as `SELECT * FROM t FINAL` shows them. */
  rows(table: string): Record<string, unknown>[];
  /** Every row inserted into a table, in order, before any merge: a row sent twice is here twice. */
  inserted(table: string): Record<string, unknown>[];
  /** Fails the next statements (`kind`: only inserts, or only CREATEs) with a status and exception code. */
  failNext(status: number, code: number, options?: { times?: number; kind?: 'insert' | 'create'; echo?: boolean; header?: boolean }): void;
  /** Exception codes answered, in order. */
  errors: number[];
  close(): Promise<void>;
}

const NAMES: Record<number, string> = {
  27: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 60: 'UNKNOWN_TABLE', 62: 'SYNTAX_ERROR', 81: 'UNKNOWN_DATABASE', 115: 'UNKNOWN_SETTING', 117: 'INCORRECT_DATA',
  159: 'TIMEOUT_EXCEEDED', 202: 'TOO_MANY_SIMULTANEOUS_QUERIES', 210: 'NETWORK_ERROR', 241: 'MEMORY_LIMIT_EXCEEDED', 497: 'ACCESS_DENIED', 516: 'AUTHENTICATION_FAILED',
};

class ClickHouseError extends Error {
  readonly code: number;
  readonly status: number;
  constructor(code: number, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const unquote = (name: string) => name.replace(/`/g, '');

/** The HTTP interface's own parameters and the settings the fake knows (the logger's, and a few more ClickHouse has). */
const KNOWN_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'wait_end_of_query', 'async_insert', 'wait_for_async_insert',
  'async_insert_deduplicate', 'insert_deduplication_token', 'input_format_skip_unknown_fields', 'date_time_input_format',
]);

/** A JSON value as a column of this type takes it (as JSONEachRow parses it), else why not. */
function typeProblem(type: string, v: unknown, bestEffort: boolean): string | undefined {
  const nullable = /^Nullable\((.+)\)$/.exec(type);
  if (nullable) return v === null ? undefined : typeProblem(nullable[1]!, v, bestEffort);
  const inner = /^LowCardinality\((.+)\)$/.exec(type);
  if (inner) return typeProblem(inner[1]!, v, bestEffort);
  if (type === 'String') return typeof v === 'string' ? undefined : 'not a string';
  if (type === 'Float64') return typeof v === 'number' ? undefined : 'not a number';
  if (type === 'UInt32') return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff ? undefined : 'not a UInt32';
  if (type === 'Bool') return typeof v === 'boolean' ? undefined : 'not a Bool';
  if (type === 'Array(String)') return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'not an Array(String)';
  if (type.startsWith('DateTime64')) {
    if (typeof v !== 'string') return 'not a date time';
    const basic = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v);
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v);
    return basic || (bestEffort && iso) ? undefined : 'cannot parse DateTime64';
  }
  return `type ${type} not known to the fake`;
}

type Credentials = { user: string; password: string };

/**
 * `user` granted everything; `insertOnly`, when given, a user granted INSERT alone (no CREATE); `tableOnly` one
 * granted INSERT and CREATE TABLE on databases (`GRANT INSERT, CREATE TABLE ON db.*`), never CREATE DATABASE.
 */
export async function startFakeClickHouse(options: Credentials & { insertOnly?: Credentials; tableOnly?: Credentials }): Promise<FakeClickHouse> {
  type Failing = { status: number; code: number; times: number; kind?: 'insert' | 'create' | undefined; echo: boolean; header: boolean };
  let failing: Failing = { status: 0, code: 0, times: 0, echo: false, header: true };
  const tokens = new Map<string, Set<string>>();
  const raw = new Map<string, Record<string, unknown>[]>();
  const fake: Omit<FakeClickHouse, 'url' | 'close'> = {
    requests: [], databases: new Set(['default']), tables: new Map(), errors: [],
    rows: (table) => fake.tables.get(table)?.rows ?? [],
    inserted: (table) => raw.get(table) ?? [],
    failNext(status, code, opts = {}) {
      failing = { status, code, times: opts.times ?? 1, kind: opts.kind, echo: opts.echo === true, header: opts.header !== false };
    },
  };

  function createTable(sql: string): void {
    const m = /^CREATE TABLE IF NOT EXISTS ([`\w]+)\.([`\w]+)\s*\(([\s\S]*)\)\s*ENGINE\s*=\s*(\w+)(?:\([^)]*\))?([\s\S]*)$/.exec(sql);
    if (!m) throw new ClickHouseError(62, 400, 'Syntax error: the fake does not parse this CREATE TABLE');
    const [db, name] = [unquote(m[1]!), unquote(m[2]!)];
    if (!fake.databases.has(db)) throw new ClickHouseError(81, 404, `Database ${db} does not exist`);
    if (fake.tables.has(`${db}.${name}`)) return;
    const columns = new Map<string, string>();
    for (const line of m[3]!.split('\n').map((l) => l.trim().replace(/,$/, ''))) {
      const col = /^(\w+)\s+(.+?)(?:\s+CODEC\(.*\))?$/.exec(line);
      if (col && !line.startsWith('INDEX')) columns.set(col[1]!, col[2]!);
    }
    const order = /ORDER BY \(((?:[^()]|\([^()]*\))*)\)/.exec(m[5]!)?.[1] ?? '';
    const key = order.split(/,(?![^(]*\))/).map((e) => /(\w+)\)?\s*$/.exec(e.trim())?.[1] ?? e.trim());
    fake.tables.set(`${db}.${name}`, { engine: m[4]!, columns, key, rows: [] });
  }

  function insert(sql: string, params: Record<string, string>, body: string): void {
    const m = /^INSERT INTO ([`\w]+)\.([`\w]+) FORMAT JSONEachRow$/.exec(sql);
    if (!m) throw new ClickHouseError(62, 400, 'Syntax error: the fake takes INSERT INTO db.table FORMAT JSONEachRow');
    const id = `${unquote(m[1]!)}.${unquote(m[2]!)}`;
    if (!fake.databases.has(unquote(m[1]!))) throw new ClickHouseError(81, 404, `Database ${unquote(m[1]!)} does not exist`);
    const table = fake.tables.get(id);
    if (!table) throw new ClickHouseError(60, 404, `Table ${id} does not exist`);
    const token = params.insert_deduplication_token;
    const seen = tokens.get(id) ?? new Set<string>();
    if (token && seen.has(token)) return;
    const rows = body.split('\n').filter((l) => l.trim()).map((line, i) => {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new ClickHouseError(117, 400, `Cannot parse JSON object here: ${line.slice(0, 40)}: (at row ${i + 1})`);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        const type = table.columns.get(k);
        if (!type) {
          if (params.input_format_skip_unknown_fields === '1') continue;
          throw new ClickHouseError(117, 400, `Unknown field found while parsing JSONEachRow format: ${k}: (at row ${i + 1})`);
        }
        const problem = typeProblem(type, v, params.date_time_input_format === 'best_effort');
        if (problem) throw new ClickHouseError(27, 400, `Cannot parse input: ${problem} for column ${k}: (at row ${i + 1})`);
        out[k] = v;
      }
      return out;
    });
    if (token) seen.add(token);
    tokens.set(id, seen);
    raw.set(id, [...(raw.get(id) ?? []), ...rows]);
    for (const row of rows) {
      const at = table.engine === 'ReplacingMergeTree' ? table.rows.findIndex((r) => table.key.every((k) => r[k] === row[k])) : -1;
      if (at >= 0) table.rows[at] = row;
      else table.rows.push(row);
    }
  }

  const server = await serveBodies('fake ClickHouse', (req, res, raw, headers) => {
    const answer = (status: number, text: string, code?: number) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', ...(code ? { 'x-clickhouse-exception-code': String(code) } : {}) });
      res.end(text);
    };
    const fail = (e: ClickHouseError, header = true) => {
      fake.errors.push(e.code);
      const text = `Code: ${e.code}. DB::Exception: ${e.message}. (${NAMES[e.code] ?? 'UNKNOWN'}) (version 25.3.1.1)\n`;
      // Met after the 200 was sent: the exception goes in the body, framed by a tag as recent servers write it.
      const body = e.status === 200 ? `__exception__\r\nfaketag\r\n${text}\r\n${text.length} faketag\r\n__exception__\r\n` : text;
      answer(e.status, body, header ? e.code : undefined);
    };
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method !== 'POST' || url.pathname !== '/') return answer(404, 'There is no handle ' + url.pathname);
    let user = headers['x-clickhouse-user'] ?? 'default';
    let key = headers['x-clickhouse-key'] ?? '';
    const basic = /^Basic (.+)$/.exec(headers.authorization ?? '');
    if (basic) [user, key] = (([u, ...p]) => [u ?? '', p.join(':')])(Buffer.from(basic[1]!, 'base64').toString('utf8').split(':'));
    const is = (c?: Credentials) => c !== undefined && user === c.user && key === c.password;
    const [insertOnly, tableOnly] = [is(options.insertOnly), is(options.tableOnly)];
    if (!insertOnly && !tableOnly && (user !== options.user || key !== options.password)) {
      return fail(new ClickHouseError(516, 403, `${user}: Authentication failed: password is incorrect, or there is no user with such name`));
    }
    const params = Object.fromEntries(url.searchParams);
    const body = raw.toString('utf8');
    const sql = (params.query ?? body).trim();
    const data = params.query !== undefined ? body : '';
    fake.requests.push({ query: sql, params, headers, body: data });
    const kind = sql.startsWith('INSERT') ? 'insert' : sql.startsWith('CREATE') ? 'create' : undefined;
    const unknown = Object.keys(params).find((name) => !KNOWN_PARAMS.has(name));
    if (unknown) return fail(new ClickHouseError(115, 404, `Setting ${unknown} is neither a builtin setting nor started with the prefix 'custom_' registered for user-defined settings`));
    if (failing.times > 0 && (failing.kind === undefined || failing.kind === kind)) {
      failing.times--;
      return fail(new ClickHouseError(failing.code, failing.status, `failed by the test${failing.echo ? `: ${key}` : ''}`), failing.header);
    }
    // ClickHouse checks the grant before IF NOT EXISTS: a user without CREATE is refused even for a table that exists.
    const grant = sql.startsWith('CREATE DATABASE') ? 'CREATE DATABASE' : 'CREATE TABLE';
    if (kind === 'create' && (insertOnly || (tableOnly && grant === 'CREATE DATABASE'))) {
      return fail(new ClickHouseError(497, 403, `${user}: Not enough privileges. To execute this query, it's necessary to have the grant ${grant}`));
    }
    try {
      const db = /^CREATE DATABASE IF NOT EXISTS ([`\w]+)$/.exec(sql);
      if (db) fake.databases.add(unquote(db[1]!));
      else if (sql.startsWith('CREATE TABLE')) createTable(sql);
      else if (kind === 'insert') insert(sql, params, data);
      else throw new ClickHouseError(62, 400, `Syntax error: the fake does not run ${sql.slice(0, 30)}`);
    } catch (err) {
      if (err instanceof ClickHouseError) return fail(err);
      throw err;
    }
    return answer(200, '');
  });
  return Object.assign(fake, server);
}
