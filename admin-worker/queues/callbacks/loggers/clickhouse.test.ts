import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeClickHouse, startFakeClickHouse } from '../../../../test/fakes/clickhouse.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import { statusOfCode } from './clickhouse-answer.ts';
import { clickhousePoster, clickhouseTarget } from './clickhouse.ts';

// The clickhouse logger's settings and its inserts into a fake ClickHouse HTTP interface.

/** A call's payload, as much of it as the inserts need. */
const payload = {
  call_type: 'acompletion', status: 'success', model: 'gpt-4o', response_cost: 0.00125, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 1700000000.25, endTime: 1700000001.5, messages: [{ role: 'user', content: 'hi' }], metadata: { user_api_key_team_id: 'team-a' },
};

describe('the clickhouse settings', () => {
  it('need CLICKHOUSE_URL (or the older CLICKHOUSE_HOST), take its user info as headers, never in the URL', () => {
    expect(clickhouseTarget({})).toEqual({ error: 'CLICKHOUSE_URL is not set for the admin Worker' });
    expect(clickhouseTarget({ CLICKHOUSE_URL: 'ftp://x' })).toEqual({ error: 'CLICKHOUSE_URL is not an http(s) URL', retry: true });
    expect(clickhouseTarget({ CLICKHOUSE_URL: 'https://writer:p%40ss%2Fword@ch.example:8443/?readonly=1' })).toEqual({
      url: 'https://ch.example:8443/', database: 'litellm', retentionDays: 14, headers: { 'x-clickhouse-user': 'writer', 'x-clickhouse-key': 'p@ss/word' },
    });
    expect(clickhouseTarget({ CLICKHOUSE_HOST: 'ch.internal', CLICKHOUSE_USERNAME: 'u', CLICKHOUSE_PASSWORD: 'pw-1234', CLICKHOUSE_DATABASE: 'spend', AGENT_TRACING_RETENTION_DAYS: '30' }))
      .toEqual({ url: 'http://ch.internal:8123/', database: 'spend', retentionDays: 30, headers: { 'x-clickhouse-user': 'u', 'x-clickhouse-key': 'pw-1234' } });
    expect(clickhouseTarget({ CLICKHOUSE_HOST: 'ch.cloud', CLICKHOUSE_PORT: '8443' })).toMatchObject({ url: 'https://ch.cloud:8443/', headers: {} });
    expect(clickhouseTarget({ CLICKHOUSE_URL: 'http://x', CLICKHOUSE_DATABASE: 'a`; DROP' })).toEqual({ error: 'CLICKHOUSE_DATABASE is not a plain name (letters, digits, underscores)', retry: true });
    expect(clickhouseTarget({ CLICKHOUSE_URL: 'http://x', AGENT_TRACING_RETENTION_DAYS: '0' })).toEqual({ error: 'AGENT_TRACING_RETENTION_DAYS is not a positive whole number', retry: true });
    expect(clickhousePoster.target({ CLICKHOUSE_URL: 'https://writer:secret-pw@ch.example:8443' })).toMatchObject({ where: 'https://ch.example:8443' });
  });

  it('take the retention from AGENT_TRACING_SPEND_LOG_RETENTION_DAYS when AGENT_TRACING_RETENTION_DAYS is unset, and refuse both set and differing (kept for a retry)', () => {
    const url = { CLICKHOUSE_URL: 'http://ch.example:8123' };
    expect(clickhouseTarget({ ...url, AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toMatchObject({ retentionDays: 90 });
    expect(clickhouseTarget({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '30' })).toMatchObject({ retentionDays: 30 });
    expect(clickhouseTarget({ ...url, AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '-1' })).toEqual({ error: 'AGENT_TRACING_SPEND_LOG_RETENTION_DAYS is not a positive whole number', retry: true });
    const differ = { error: 'AGENT_TRACING_RETENTION_DAYS and AGENT_TRACING_SPEND_LOG_RETENTION_DAYS differ: set one', retry: true };
    expect(clickhouseTarget({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toEqual(differ);
    expect(clickhousePoster.target({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toEqual(differ);
  });
});

describe('ClickHouse\'s exception codes', () => {
  it('map to the statuses its HTTP interface answers them with', () => {
    expect([27, 26, 117, 53, 62].map(statusOfCode)).toEqual([400, 400, 400, 400, 400]);
    expect([60, 81, 115].map(statusOfCode)).toEqual([404, 404, 404]);
    expect([516, 497, 192, 193].map(statusOfCode)).toEqual([403, 403, 403, 403]);
    expect([194, 229, 159, 241, 202].map(statusOfCode)).toEqual([401, 413, 408, 500, 500]);
  });
});

// The poster against a fake ClickHouse on loopback, through the dispatcher.
describe('the clickhouse poster', () => {
  const PASSWORD = 'ch-unit-password-0123456789';
  let ch: FakeClickHouse;
  let base: Record<string, string>;
  const INSERTER = { user: 'inserter', password: 'ch-insert-only-password-0123' };
  beforeAll(async () => {
    ch = await startFakeClickHouse({ user: 'writer', password: PASSWORD, insertOnly: INSERTER });
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
    expect(statementsFor('unit_i').slice(-4)).toEqual([
      'INSERT INTO `unit_i`.spend_logs FORMAT JSONEachRow', 'CREATE DATABASE IF NOT EXISTS `unit_i`', 'CREATE TABLE IF NOT EXISTS `unit_i`.spend_logs',
      'INSERT INTO `unit_i`.spend_logs FORMAT JSONEachRow',
    ]);
    expect(ch.rows('unit_i.spend_logs').map((r) => r.request_id)).toEqual(['i-0', 'i-3']);
  });

  it('retries a 503, a 500 and a refused password (403, code 516), never quoting the password ClickHouse echoes', async () => {
    await deliver('unit_c', 0, [call('c-0')]);
    for (const [status, code] of [[503, 202], [500, 241]] as const) {
      ch.failNext(status, code, { echo: true, kind: 'insert' });
      const { reports, retried } = await deliver('unit_c', 4, [call(`c-${status}`)]);
      expect(retried).toEqual([4]);
      expect(reports.join('')).toContain(`HTTP ${status}: Code: ${code}. DB::Exception: failed by the test: [redacted]`);
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
    expect(ch.rows('unit_f.spend_logs').map((r) => r.request_id)).toEqual(['f-2']);
  });
});
