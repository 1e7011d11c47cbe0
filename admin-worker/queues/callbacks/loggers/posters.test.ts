import { describe, expect, it, vi } from 'vitest';
import { log } from '../../../../worker/telemetry/log.ts';
import type { LoggerEnv } from './types.ts';
import { datadogLog, datadogPoster } from './datadog.ts';
import { genericApiPoster, genericLoggerHeaders, invalidHeaderLabel, requestHeaders } from './generic-api.ts';

const env = (vars: Record<string, string>) => vars as LoggerEnv;
const whereOf = (target: ReturnType<typeof datadogPoster.target>) => ('error' in target ? target.error : target.where);

describe('generic_api settings', () => {
  it('parses GENERIC_LOGGER_HEADERS as LiteLLM does: k=v pairs, split at the first =, trimmed', () => {
    expect(genericLoggerHeaders('Authorization=Bearer a=b, x-team = blue,junk,=x')).toEqual({ Authorization: 'Bearer a=b', 'x-team': 'blue' });
    expect(genericLoggerHeaders(undefined)).toEqual({});
  });

  it('merges the configured headers by name whatever their case, and leaves out (by name) one fetch would refuse', () => {
    expect(requestHeaders(genericLoggerHeaders('Content-Type=application/x-ndjson, X-Team=blue'))).toEqual({
      headers: { 'content-type': 'application/x-ndjson', 'x-team': 'blue' }, invalid: [],
    });
    const bad = requestHeaders({ 'bad header': 'secret-value-1', 'x-ok': 'yes', 'x-nul': 'a\u0000b' });
    expect(bad).toEqual({ headers: { 'content-type': 'application/json', 'x-ok': 'yes' }, invalid: ['bad header', 'x-nul'] });
    // The poster still posts (a config error, not a delivery to retry into the dead-letter queue).
    const target = genericApiPoster.target(env({ GENERIC_LOGGER_ENDPOINT: 'https://logs.example.test/', GENERIC_LOGGER_HEADERS: 'bad header=secret-value-1' }));
    expect('error' in target).toBe(false);
  });

  it('names a header fetch refuses by its position and first word, never the token a mistyped name holds', () => {
    expect(invalidHeaderLabel('Authorization: Bearer tok-secret-0001', 2)).toBe('header 2 (its name starts "Authorization")');
    expect(invalidHeaderLabel('sk3cr3t-token-0001 x', 1)).toBe('header 1');
    const lines: string[] = [];
    const spy = vi.spyOn(log, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      genericApiPoster.target(env({ GENERIC_LOGGER_ENDPOINT: 'https://logs.example.test/', GENERIC_LOGGER_HEADERS: 'x-team=blue,Authorization: Bearer tok-secret-0001=x' }));
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['generic_api callback: GENERIC_LOGGER_HEADERS header 2 (its name starts "Authorization") is not a valid HTTP header; left out']);
  });

  it('needs an http(s) GENERIC_LOGGER_ENDPOINT without credentials in it', () => {
    expect(genericApiPoster.target(env({}))).toEqual({ error: expect.stringContaining('GENERIC_LOGGER_ENDPOINT') });
    expect(genericApiPoster.target(env({ GENERIC_LOGGER_ENDPOINT: 'ftp://x' }))).toEqual({ error: expect.stringContaining('http(s)') });
    expect(genericApiPoster.target(env({ GENERIC_LOGGER_ENDPOINT: 'https://u:p@x.test/' }))).toEqual({ error: expect.stringContaining('credentials') });
    expect(whereOf(genericApiPoster.target(env({ GENERIC_LOGGER_ENDPOINT: 'https://logs.example.test/ingest?x=1' })))).toBe('https://logs.example.test');
  });
});

describe('datadog settings', () => {
  it('posts to the site\'s intake, an Agent, or DD_BASE_URL; the intake needs DD_API_KEY and DD_SITE', () => {
    expect(whereOf(datadogPoster.target(env({ DD_API_KEY: 'k', DD_SITE: 'us5.datadoghq.com' })))).toBe('https://http-intake.logs.us5.datadoghq.com');
    expect(whereOf(datadogPoster.target(env({ LITELLM_DD_AGENT_HOST: 'dd-agent' })))).toBe('http://dd-agent:10518');
    expect(whereOf(datadogPoster.target(env({ DD_API_KEY: 'k', DD_BASE_URL: 'http://127.0.0.1:9999/' })))).toBe('http://127.0.0.1:9999');
    expect(whereOf(datadogPoster.target(env({ DD_SITE: 'datadoghq.eu' })))).toContain('DD_API_KEY');
    expect(whereOf(datadogPoster.target(env({ DD_API_KEY: 'k' })))).toContain('DD_SITE');
  });

  it('makes LiteLLM\'s log: tags from the environment, the request tags and the team, status error for a failure (DataDogStatus)', () => {
    const settings = { source: 'litellm', service: 'litellm-server', hostname: 'h1', baseTags: ['env:unknown'] };
    const payload = { id: 'c1', status: 'failure', request_tags: ['a', 'b'], metadata: { user_api_key_team_id: 'team-1' } };
    const log = datadogLog(payload, settings);
    expect(log).toEqual({ ddsource: 'litellm', ddtags: 'env:unknown,request_tag:a,request_tag:b,team:team-1', hostname: 'h1', message: JSON.stringify(payload), service: 'litellm-server', status: 'error' });
    expect(datadogLog({ status: 'success', metadata: { user_api_key_team_alias: 'Blue', user_api_key_team_id: 't' } }, settings)).toMatchObject({ ddtags: 'env:unknown,team:Blue', status: 'info' });
  });
});
