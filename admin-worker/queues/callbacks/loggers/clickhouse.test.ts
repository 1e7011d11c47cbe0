import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeClickHouse, startFakeClickHouse } from '../../../../test/fakes/clickhouse.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';

// The clickhouse poster against a fake ClickHouse on loopback, through the dispatcher (its settings: clickhouse-settings.test.ts).

/** A call's payload, as much of it as the inserts need. */
const payload = {
  call_type: 'acompletion', status: 'success', model: 'gpt-4o', response_cost: 0.00125, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 1700000000.25, endTime: 1700000001.5, messages: [{ role: 'user', content: 'hi' }], metadata: { user_api_key_team_id: 'team-a' },
};

describe('the clickhouse poster', () => {
  const PASSWORD = 'ch-unit-password-0123456789';
  let ch: FakeClickHouse;
  let base: Record<string, string>;
  const INSERTER = { user: 'inserter', password: 'ch-insert-only-password-0123' };
  const TABLE_MAKER = { user: 'table_maker', password: 'ch-create-table-password-0123' };
  beforeAll(async () => {
    ch = await startFakeClickHouse({ user: 'writer', password: PASSWORD, insertOnly: INSERTER, tableOnly: TABLE_MAKER });
    base = { CLICKHOUSE_URL: ch.url.replace('http://', `http://writer:${PASSWORD}@`) };
  });
  afterAll(async () => {
    await ch?.close();
  });

  const call = (id: string, extra: Record<string, unknown> = {}) => ({ ...payload, id, ...extra });
  const deliver = (db: string, origin: number, payloads: Record<string, unknown>[], over: Record<string, string> = {}) =>
    deliverSegments([loggerSegment('clickhouse', origin, payloads)], { ...base, CLICKHOUSE_DATABASE: db, ...over });
  const statementsFor = (db: string) => ch.requests.filter((r) => r.query.includes(`\`${db}\``)).map((r) => r.query.split('\n')[0]);

  it('inserts each batch as JSONEachRow rows the table parses, with LiteLLM\'s settings, creating the database and table only when the insert finds them missing', async () => {
    const first = await deliver('unit_a', 0, [call('a-1'), call('a-2', { status: 'failure', error_str: 'boom', response: null })]);
    expect(first).toEqual({ reports: [], retried: [] });
    await deliver('unit_a', 1, [call('a-3')]);
    const insertA = 'INSERT INTO `unit_a`.spend_logs FORMAT JSONEachRow';
    expect(statementsFor('unit_a')).toEqual([
      insertA, 'CREATE DATABASE IF NOT EXISTS `unit_a`', 'CREATE TABLE IF NOT EXISTS `unit_a`.spend_logs', insertA, insertA,
    ]);
    expect(ch.tables.get('unit_a.spend_logs')?.engine).toBe('ReplacingMergeTree');
    expect(ch.rows('unit_a.spend_logs').map((r) => [r.request_id, r.status])).toEqual([['a-1', 'success'], ['a-2', 'failure'], ['a-3', 'success']]);
    const insert = ch.requests.find((r) => r.query.startsWith('INSERT INTO `unit_a`'))!;
    expect(insert.params).toMatchObject({ async_insert: '1', wait_for_async_insert: '1', input_format_skip_unknown_fields: '1', date_time_input_format: 'best_effort' });
    expect(insert.headers).toMatchObject({ 'x-clickhouse-user': 'writer', 'x-clickhouse-key': PASSWORD });
    expect(insert.body).not.toContain(PASSWORD);
  });

  it('adds no row when a batch is sent again: the rows are inserted again, and the table merges them by request id', async () => {
    await deliver('unit_b', 0, [call('b-1'), call('b-2')]);
    await deliver('unit_b', 0, [call('b-2'), call('b-1'), call('b-3')]);
    expect(ch.inserted('unit_b.spend_logs').map((r) => r.request_id)).toEqual(['b-1', 'b-2', 'b-2', 'b-1', 'b-3']);
    expect(ch.rows('unit_b.spend_logs').map((r) => r.request_id).sort()).toEqual(['b-1', 'b-2', 'b-3']);
  });

  it('writes as a user granted INSERT alone (no CREATE sent while the table exists), and retries when such a user finds it missing', async () => {
    const asInserter = { CLICKHOUSE_URL: ch.url.replace('http://', `http://${INSERTER.user}:${INSERTER.password}@`) };
    await deliver('unit_g', 0, [call('g-0')]);
    const before = statementsFor('unit_g').length;
    expect(await deliver('unit_g', 1, [call('g-1'), call('g-2')], asInserter)).toEqual({ reports: [], retried: [] });
    expect(statementsFor('unit_g').slice(before)).toEqual(['INSERT INTO `unit_g`.spend_logs FORMAT JSONEachRow']);
    expect(ch.rows('unit_g.spend_logs').map((r) => r.request_id)).toEqual(['g-0', 'g-1', 'g-2']);
    const missing = await deliver('unit_h', 2, [call('h-1')], asInserter);
    expect(missing.retried).toEqual([2]);
    expect(missing.reports.join('')).toContain('creating `unit_h`.spend_logs failed: HTTP 403: Code: 497.');
    expect(ch.rows('unit_h.spend_logs')).toEqual([]);
  });

  it('reads a 200 carrying an exception as the status ClickHouse maps its code to: retried, split, or the table made', async () => {
    await deliver('unit_i', 0, [call('i-0')]);
    // Mid-answer, with no header: only the body says so.
    ch.failNext(200, 241, { kind: 'insert', header: false });
    const bodyOnly = await deliver('unit_i', 1, [call('i-1')]);
    expect(bodyOnly.retried).toEqual([1]);
    expect(bodyOnly.reports.join('')).toContain('HTTP 200 carrying exception code 241 (read as 500)');
    ch.failNext(200, 27, { kind: 'insert' });
    const unparsed = await deliver('unit_i', 2, [call('i-2')]);
    expect(unparsed.retried).toEqual([]);
    expect(unparsed.reports.join('')).toContain('HTTP 200 carrying exception code 27 (read as 400)');
    ch.failNext(200, 60, { kind: 'insert' });
    expect(await deliver('unit_i', 3, [call('i-3')])).toEqual({ reports: [], retried: [] });
    expect(statementsFor('unit_i').slice(-3)).toEqual([
      'INSERT INTO `unit_i`.spend_logs FORMAT JSONEachRow', 'CREATE TABLE IF NOT EXISTS `unit_i`.spend_logs', 'INSERT INTO `unit_i`.spend_logs FORMAT JSONEachRow',
    ]);
    expect(ch.rows('unit_i.spend_logs').map((r) => r.request_id)).toEqual(['i-0', 'i-3']);
  });

  it('retries a 503, a 500 and a refused password (403, code 516), naming the exception, never quoting its message (which may quote rows, or the password ClickHouse echoes)', async () => {
    await deliver('unit_c', 0, [call('c-0')]);
    for (const [status, code] of [[503, 202], [500, 241]] as const) {
      ch.failNext(status, code, { echo: true, kind: 'insert' });
      const { reports, retried } = await deliver('unit_c', 4, [call(`c-${status}`)]);
      expect(retried).toEqual([4]);
      expect(reports.join('')).toMatch(new RegExp(`HTTP ${status}: Code: ${code}\\. [A-Z_]+`));
      expect(reports.join('')).not.toContain('failed by the test');
      expect(reports.join('')).not.toContain(PASSWORD);
    }
    const wrong = await deliver('unit_c', 5, [call('c-wrong')], { CLICKHOUSE_URL: ch.url.replace('http://', 'http://writer:not-the-password@') });
    expect(wrong.retried).toEqual([5]);
    expect(wrong.reports.join('')).toContain('HTTP 403: Code: 516.');
    expect(ch.rows('unit_c.spend_logs').map((r) => r.request_id)).toEqual(['c-0']);
  });

  it('drops a row ClickHouse cannot parse (400) without a retry, and retries when the table cannot be created', async () => {
    await deliver('unit_d', 0, [call('d-0')]);
    ch.failNext(400, 27, { kind: 'insert' });
    const refused = await deliver('unit_d', 1, [call('d-bad')]);
    expect(refused.retried).toEqual([]);
    expect(refused.reports.join('')).toContain('HTTP 400: Code: 27.');
    // A CREATE refused with a 400 is the setup's fault, never the rows': retried, and nothing inserted before the table exists.
    ch.failNext(400, 62, { kind: 'create' });
    const unmade = await deliver('unit_e', 2, [call('e-1')]);
    expect(unmade.retried).toEqual([2]);
    expect(unmade.reports.join('')).toContain('creating `unit_e`.spend_logs failed: HTTP 400: Code: 62.');
    expect(statementsFor('unit_e')).toEqual(['INSERT INTO `unit_e`.spend_logs FORMAT JSONEachRow', 'CREATE DATABASE IF NOT EXISTS `unit_e`']);
    expect(await deliver('unit_e', 2, [call('e-1')])).toEqual({ reports: [], retried: [] });
    expect(ch.rows('unit_e.spend_logs').map((r) => r.request_id)).toEqual(['e-1']);
  });

  it('makes the table again when it was dropped (404, code 60) and inserts the batch that found it gone', async () => {
    await deliver('unit_f', 0, [call('f-1')]);
    ch.tables.delete('unit_f.spend_logs');
    expect(await deliver('unit_f', 1, [call('f-2')])).toEqual({ reports: [], retried: [] });
    expect(ch.errors.at(-1)).toBe(60);
    expect(statementsFor('unit_f').slice(-3)).toEqual([
      'INSERT INTO `unit_f`.spend_logs FORMAT JSONEachRow', 'CREATE TABLE IF NOT EXISTS `unit_f`.spend_logs', 'INSERT INTO `unit_f`.spend_logs FORMAT JSONEachRow',
    ]);
    expect(ch.rows('unit_f.spend_logs').map((r) => r.request_id)).toEqual(['f-2']);
  });

  it('makes only the table for a user granted CREATE TABLE but not CREATE DATABASE, the database too only when it is missing', async () => {
    const asTableMaker = { CLICKHOUSE_URL: ch.url.replace('http://', `http://${TABLE_MAKER.user}:${TABLE_MAKER.password}@`) };
    await deliver('unit_j', 0, [call('j-0')]);
    ch.tables.delete('unit_j.spend_logs');
    const before = statementsFor('unit_j').length;
    expect(await deliver('unit_j', 1, [call('j-1')], asTableMaker)).toEqual({ reports: [], retried: [] });
    expect(statementsFor('unit_j').slice(before)).toEqual([
      'INSERT INTO `unit_j`.spend_logs FORMAT JSONEachRow', 'CREATE TABLE IF NOT EXISTS `unit_j`.spend_logs', 'INSERT INTO `unit_j`.spend_logs FORMAT JSONEachRow',
    ]);
    expect(ch.rows('unit_j.spend_logs').map((r) => r.request_id)).toEqual(['j-1']);
    // No database: its CREATE DATABASE is refused (497), and the batch kept for a retry.
    const noDatabase = await deliver('unit_k', 2, [call('k-1')], asTableMaker);
    expect(noDatabase.retried).toEqual([2]);
    expect(noDatabase.reports.join('')).toContain('creating `unit_k`.spend_logs failed: HTTP 403: Code: 497.');
    expect(statementsFor('unit_k')).toEqual(['INSERT INTO `unit_k`.spend_logs FORMAT JSONEachRow', 'CREATE DATABASE IF NOT EXISTS `unit_k`']);
  });

  it('makes the database after all when CREATE TABLE finds it gone too (81), then the table, and inserts', async () => {
    ch.failNext(404, 60, { kind: 'insert' });
    expect(await deliver('unit_l', 0, [call('l-1')])).toEqual({ reports: [], retried: [] });
    expect(statementsFor('unit_l')).toEqual([
      'INSERT INTO `unit_l`.spend_logs FORMAT JSONEachRow', 'CREATE TABLE IF NOT EXISTS `unit_l`.spend_logs', 'CREATE DATABASE IF NOT EXISTS `unit_l`',
      'CREATE TABLE IF NOT EXISTS `unit_l`.spend_logs', 'INSERT INTO `unit_l`.spend_logs FORMAT JSONEachRow',
    ]);
    expect(ch.rows('unit_l.spend_logs').map((r) => r.request_id)).toEqual(['l-1']);
  });

  it('inserts into an existing table whatever the retention settings say; a wrong retention holds back only a table to make', async () => {
    const differ = { AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' };
    await deliver('unit_m', 0, [call('m-0')]);
    expect(await deliver('unit_m', 1, [call('m-1')], differ)).toEqual({ reports: [], retried: [] });
    expect(ch.rows('unit_m.spend_logs').map((r) => r.request_id)).toEqual(['m-0', 'm-1']);
    const missing = await deliver('unit_n', 2, [call('n-1')], differ);
    expect(missing.retried).toEqual([2]);
    expect(missing.reports.join('')).toContain('creating `unit_n`.spend_logs failed: AGENT_TRACING_RETENTION_DAYS and AGENT_TRACING_SPEND_LOG_RETENTION_DAYS differ: set one');
    expect(statementsFor('unit_n')).toEqual(['INSERT INTO `unit_n`.spend_logs FORMAT JSONEachRow']);
    await deliver('unit_n', 2, [call('n-1')], { AGENT_TRACING_RETENTION_DAYS: '30' });
    expect(ch.requests.find((r) => r.query.startsWith('CREATE TABLE IF NOT EXISTS `unit_n`'))?.query).toContain('TTL toDateTime(start_time) + INTERVAL 30 DAY');
  });
});
