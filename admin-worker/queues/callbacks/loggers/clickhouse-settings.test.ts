import { describe, expect, it } from 'vitest';
import { statusOfCode } from './clickhouse-answer.ts';
import { clickhousePoster, clickhouseTarget } from './clickhouse.ts';

// The clickhouse logger's settings, and how it reads ClickHouse's exception codes.

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
    expect(clickhouseTarget({ CLICKHOUSE_URL: 'http://x', AGENT_TRACING_RETENTION_DAYS: '0' })).toMatchObject({ retentionDays: { error: 'AGENT_TRACING_RETENTION_DAYS is not a positive whole number' } });
    expect(clickhousePoster.target({ CLICKHOUSE_URL: 'https://writer:secret-pw@ch.example:8443' })).toMatchObject({ where: 'https://ch.example:8443' });
  });

  it('take the retention from AGENT_TRACING_SPEND_LOG_RETENTION_DAYS when AGENT_TRACING_RETENTION_DAYS is unset, and refuse both set and differing (for a table made, only)', () => {
    const url = { CLICKHOUSE_URL: 'http://ch.example:8123' };
    expect(clickhouseTarget({ ...url, AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toMatchObject({ retentionDays: 90 });
    expect(clickhouseTarget({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '30' })).toMatchObject({ retentionDays: 30 });
    expect(clickhouseTarget({ ...url, AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '-1' })).toMatchObject({ retentionDays: { error: 'AGENT_TRACING_SPEND_LOG_RETENTION_DAYS is not a positive whole number' } });
    const differ = { error: 'AGENT_TRACING_RETENTION_DAYS and AGENT_TRACING_SPEND_LOG_RETENTION_DAYS differ: set one' };
    expect(clickhouseTarget({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toMatchObject({ retentionDays: differ });
    // Only a table the logger makes takes the TTL: the target is made, its inserts sent (the poster test below).
    expect(clickhousePoster.target({ ...url, AGENT_TRACING_RETENTION_DAYS: '30', AGENT_TRACING_SPEND_LOG_RETENTION_DAYS: '90' })).toMatchObject({ where: 'http://ch.example:8123' });
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
