import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeAzureSentinel, startFakeAzureSentinel } from '../../../../test/fakes/azure-sentinel.ts';
import { deliverLoggers } from '../loggers.ts';
import { azureSentinelPoster, azureSentinelTargetOf, MONITOR_SCOPE } from './azure-sentinel.ts';
import { TOKEN_FAILURE_MS } from './entra-token.ts';
import type { LoggerEnv, PostResult } from './types.ts';

const DCR = 'dcr-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const payload = (id: string, extra: Record<string, unknown> = {}) => ({ id, status: 'success', model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });
const encoder = new TextEncoder();
const segment = (payloads: unknown[]) => ({ bytes: encoder.encode(payloads.map((p) => JSON.stringify(p)).join(',')), events: payloads.length });
const post = (env: LoggerEnv, ...segments: unknown[][]): Promise<PostResult> => {
  const target = azureSentinelPoster.target(env);
  if ('error' in target) throw new Error(target.error);
  return target.post(segments.map(segment));
};

describe('the azure_sentinel logger\'s settings', () => {
  const env = {
    AZURE_SENTINEL_ENDPOINT: 'https://my-dce-abcd.eastus-1.ingest.monitor.azure.com/', AZURE_SENTINEL_DCR_IMMUTABLE_ID: DCR,
    AZURE_SENTINEL_TENANT_ID: 't', AZURE_SENTINEL_CLIENT_ID: 'c', AZURE_SENTINEL_CLIENT_SECRET: 'sentinel-secret-value',
  };

  it('posts to the DCR\'s stream (Custom-LiteLLM by default) with api-version 2023-01-01, a token of scope monitor.azure.com', () => {
    expect(azureSentinelTargetOf(env)).toEqual({
      url: `https://my-dce-abcd.eastus-1.ingest.monitor.azure.com/dataCollectionRules/${DCR}/streams/Custom-LiteLLM?api-version=2023-01-01`,
      client: { authority: 'https://login.microsoftonline.com/', tenant: 't', clientId: 'c', clientSecret: 'sentinel-secret-value', scope: MONITOR_SCOPE },
    });
    expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_STREAM_NAME: 'Custom-Gateway_CL' })).toMatchObject({ url: expect.stringContaining('/streams/Custom-Gateway_CL?api-version=2023-01-01') });
  });

  it('falls back to AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, the Sentinel names first', () => {
    const common = { AZURE_SENTINEL_ENDPOINT: env.AZURE_SENTINEL_ENDPOINT, AZURE_SENTINEL_DCR_IMMUTABLE_ID: DCR, AZURE_TENANT_ID: 'common-t', AZURE_CLIENT_ID: 'common-c', AZURE_CLIENT_SECRET: 'common-secret' };
    expect(azureSentinelTargetOf(common)).toMatchObject({ client: { tenant: 'common-t', clientId: 'common-c', clientSecret: 'common-secret' } });
    expect(azureSentinelTargetOf({ ...common, AZURE_SENTINEL_CLIENT_ID: 'own-c' })).toMatchObject({ client: { tenant: 'common-t', clientId: 'own-c' } });
  });

  it('names what is missing or malformed, never quoting a value, and keeps the payloads for a retry meanwhile', () => {
    expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_DCR_IMMUTABLE_ID: undefined })).toEqual({ error: 'AZURE_SENTINEL_DCR_IMMUTABLE_ID is not set for the admin Worker' });
    expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_ENDPOINT: undefined })).toEqual({ error: expect.stringContaining('AZURE_SENTINEL_ENDPOINT is not set') });
    expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_CLIENT_SECRET: undefined, AZURE_SENTINEL_TENANT_ID: ' ' }))
      .toEqual({ error: 'AZURE_SENTINEL_TENANT_ID or AZURE_TENANT_ID, AZURE_SENTINEL_CLIENT_SECRET or AZURE_CLIENT_SECRET are not set for the admin Worker' });
    // A path segment of the URL: `..` or a `/` would post elsewhere on the endpoint with the operator's token.
    for (const dcr of ['..', 'dcr-1/../../x', 'dcr 1']) expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_DCR_IMMUTABLE_ID: dcr })).toEqual({ error: expect.stringContaining('is not a data collection rule') });
    expect(azureSentinelTargetOf({ ...env, AZURE_SENTINEL_STREAM_NAME: '../streams/x' })).toEqual({ error: expect.stringContaining('AZURE_SENTINEL_STREAM_NAME is not a stream name') });
    expect(azureSentinelPoster.target({ AZURE_SENTINEL_DCR_IMMUTABLE_ID: DCR })).toEqual({ error: expect.stringContaining('AZURE_SENTINEL_ENDPOINT'), retry: true });
  });
});

describe('the azure_sentinel logger against the Logs Ingestion API', () => {
  let azure: FakeAzureSentinel;
  let env: LoggerEnv;
  beforeAll(async () => {
    azure = await startFakeAzureSentinel({ dcr: DCR, stream: 'Custom-LiteLLM' });
    env = {
      AZURE_SENTINEL_ENDPOINT: azure.url, AZURE_SENTINEL_DCR_IMMUTABLE_ID: DCR, AZURE_AUTHORITY_HOST: azure.url,
      AZURE_SENTINEL_TENANT_ID: azure.client.tenant, AZURE_SENTINEL_CLIENT_ID: azure.client.clientId, AZURE_SENTINEL_CLIENT_SECRET: azure.client.clientSecret,
    };
  });
  afterAll(() => azure.close());

  it('sends a batch as one gzip-compressed JSON array of the payloads, with a bearer token kept for the next batches', async () => {
    const exchanges = azure.tokenRequests.length;
    expect(await post(env, [payload('s-1'), payload('s-2', { status: 'failure', error_str: 'boom' })], [payload('s-3')])).toEqual({ ok: true });
    expect(await post(env, [payload('s-4')])).toEqual({ ok: true });
    expect(azure.tokenRequests.slice(exchanges)).toEqual([true]);
    const [first] = azure.calls.slice(-2);
    expect(first!.records).toEqual([payload('s-1'), payload('s-2', { status: 'failure', error_str: 'boom' }), payload('s-3')]);
    expect(first!.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: expect.stringMatching(/^Bearer eyJ0eXAiOiJKV1QifQ\.monitor-test-token-\d+$/) });
    expect(first!.sentBytes).toBeLessThan(first!.jsonBytes);
    expect(JSON.stringify(azure.calls)).not.toContain(azure.client.clientSecret);
    expect(azure.refusals).toEqual([]);
  });

  it('retries throttling (429), a missing role (403), an unknown DCR (404) and outages (500)', async () => {
    for (const [status, code] of [[429, 'TooManyRequests'], [403, 'OperationFailed'], [500, 'InternalServerError']] as const) {
      azure.failNext(status);
      expect(await post(env, [payload(`f-${status}`)])).toEqual({ ok: false, retry: true, reason: `HTTP ${status} ${code}` });
    }
    const otherRule = await post({ ...env, AZURE_SENTINEL_DCR_IMMUTABLE_ID: 'dcr-ffffffffffffffffffffffffffffffff' }, [payload('f-404')]);
    expect(otherRule).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('HTTP 404') });
    expect(azure.records().map((r) => r.id)).not.toContain('f-429');
    expect(azure.refusals.splice(0)).toEqual(['dcr dcr-ffffffffffffffffffffffffffffffff']);
  });

  it('retries a 400 that blames the settings (a stream the DCR does not declare), its code in x-ms-error-code or the body', async () => {
    for (const codeIn of ['both', 'header', 'body'] as const) {
      azure.codeIn = codeIn;
      const result = await post({ ...env, AZURE_SENTINEL_STREAM_NAME: 'Custom-Other' }, [payload('b-1'), payload('b-2')]);
      expect(result).toEqual({ ok: false, retry: true, reason: 'HTTP 400 InvalidStream' });
    }
    azure.codeIn = 'both';
    expect(azure.refusals.splice(0)).toEqual(['stream Custom-Other', 'stream Custom-Other', 'stream Custom-Other']);
  });

  it('splits a batch on any other 400, so the payloads Azure takes are not held back by the ones it refuses', async () => {
    azure.auxiliary = true;
    const calls = azure.calls.length;
    const at = (id: string, startTime: number) => payload(id, { startTime });
    // An Auxiliary table takes a call's records only within 30 minutes of each other: a late retry sits an hour apart.
    expect(await post(env, [at('x-1', 1_700_000_000), at('x-2', 1_700_003_600)])).toMatchObject({ ok: false, retry: false, reason: expect.stringContaining('RecordsTimeRangeIsMoreThan30Minutes') });
    const reports: string[] = [];
    const retried: number[] = [];
    const segments = [at('a-1', 1_700_000_000), at('a-2', 1_700_000_060), at('a-3', 1_700_003_600)].map((p, origin) => ({ ...segment([p]), name: 'azure_sentinel', origin }));
    await deliverLoggers(segments, env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.push(o));
    expect(azure.calls.slice(calls).map((c) => c.records.map((r) => r.id)).sort()).toEqual([['a-1', 'a-2'], ['a-3']]);
    expect(retried).toEqual([]);
    expect(reports).toEqual([]);
    azure.auxiliary = false;
    expect(azure.refusals.splice(0)).toEqual(['time range', 'time range']);
  });

  it('reports a refusal as its status and Azure\'s code, never the message, which may quote a record\'s prompt', async () => {
    azure.quoteRecords = true;
    const prompt = 'my private question about a patient';
    try {
      azure.failNext(500);
      expect(await post(env, [payload('q-1', { messages: [{ role: 'user', content: prompt }] })])).toEqual({ ok: false, retry: true, reason: 'HTTP 500 InternalServerError' });
      azure.auxiliary = true;
      const spanning = [payload('q-2', { startTime: 1_700_000_000, messages: [{ role: 'user', content: prompt }] }), payload('q-3', { startTime: 1_700_003_600 })];
      expect(await post(env, spanning)).toEqual({ ok: false, retry: false, reason: 'HTTP 400 RecordsTimeRangeIsMoreThan30Minutes' });
    } finally {
      azure.quoteRecords = false;
      azure.auxiliary = false;
    }
    expect(azure.refusals.splice(0)).toEqual(['time range']);
  });

  it('drops payloads each too large to send, even when no other payload of the batch was taken: never retried', async () => {
    const calls = azure.statuses.length;
    const reports: string[] = [];
    const retried: number[] = [];
    const huge = (id: string) => payload(id, { messages: [{ role: 'user', content: 'z'.repeat(1100 * 1024) }] });
    // Two alone, and two in one message (the dispatcher splits it to find each).
    const segments = [[huge('o-1')], [huge('o-2')], [huge('o-3'), huge('o-4')]].map((p, origin) => ({ ...segment(p), name: 'azure_sentinel', origin }));
    await deliverLoggers(segments, env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.push(o));
    expect(retried).toEqual([]);
    expect(reports).toHaveLength(4);
    for (const report of reports) expect(report).toMatch(/^azure_sentinel: \d+ bytes of logs, over the Logs Ingestion API's 1 MB a call$/);
    expect(azure.statuses.length).toBe(calls);
  });

  it('remembers for 30 s an app registration whose fresh tokens Azure Monitor refuses: one exchange, no call meanwhile', async () => {
    azure.issueRefusedTokens = true;
    azure.revokeTokens();
    const exchanges = azure.tokenRequests.length;
    const calls = azure.statuses.length;
    // The kept token, revoked, is only dropped: the next batch exchanges anew.
    expect(await post(env, [payload('r-1')])).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('HTTP 401') });
    const refused = { ok: false, retry: true, reason: 'no access token for the app registration: Azure Monitor refused a fresh token (HTTP 401 InvalidToken)' };
    expect(await post(env, [payload('r-1')])).toEqual(refused);
    expect(await post(env, [payload('r-1')])).toEqual(refused);
    expect(azure.tokenRequests.length - exchanges).toBe(1);
    expect(azure.statuses.length - calls).toBe(2);
    azure.issueRefusedTokens = false;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + TOKEN_FAILURE_MS + 1 });
    try {
      expect(await post(env, [payload('r-1')])).toEqual({ ok: true });
    } finally {
      vi.useRealTimers();
    }
    expect(azure.tokenRequests.length - exchanges).toBe(2);
    expect(azure.refusals.splice(0)).toEqual(['token not issued', 'token not issued']);
  });

  it('exchanges a new token after a 401 for the kept one; a refused secret is retried, its reason Entra\'s code, never the secret', async () => {
    azure.revokeTokens();
    expect(await post(env, [payload('t-1')])).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('HTTP 401') });
    expect(await post(env, [payload('t-1')])).toEqual({ ok: true });
    const wrong = await post({ ...env, AZURE_SENTINEL_CLIENT_SECRET: 'wrong~secret~value' }, [payload('t-2')]);
    expect(wrong).toEqual({ ok: false, retry: true, reason: 'no access token for the app registration: the token endpoint answered HTTP 401 invalid_client (AADSTS7000215)' });
    expect(azure.refusals.splice(0)).toEqual(['token not issued']);
  });

  it('never sends a body over 1 MB: a batch is cut to fit, a payload too large alone is refused unsent and dropped', async () => {
    const big = (id: string) => payload(id, { messages: [{ role: 'user', content: `${id} ${'x'.repeat(300 * 1024)}` }] });
    const calls = azure.calls.length;
    const reports: string[] = [];
    const retried: number[] = [];
    const segments = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'].map((id, origin) => ({ ...segment([big(id)]), name: 'azure_sentinel', origin }));
    const huge = { ...segment([payload('m-huge', { messages: [{ role: 'user', content: 'y'.repeat(1024 * 1024) }] })]), name: 'azure_sentinel', origin: 5 };
    await deliverLoggers([...segments, huge], env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.push(o));
    const sent = azure.calls.slice(calls);
    expect(sent.map((c) => c.records.map((r) => r.id))).toEqual([['m-1', 'm-2', 'm-3'], ['m-4', 'm-5']]);
    for (const call of sent) expect(call.jsonBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringMatching(/^azure_sentinel: \d+ bytes of logs, over the Logs Ingestion API's 1 MB a call$/)]);
    expect(azure.refusals).toEqual([]);
  });
});
