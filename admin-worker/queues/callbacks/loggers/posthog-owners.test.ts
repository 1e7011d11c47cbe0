import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePosthog, startFakePosthog } from '../../../../test/fakes/posthog.ts';
import { loggerSegment } from '../../../../test/support/logger-delivery.ts';
import { ownerEnvOf, POSTHOG_KEYED, takesEnvKey } from '../logger-owners.ts';
import { deliverLoggers, type LoggerSegment } from '../loggers.ts';
import { requestLangfuseMetadata } from '../../../../worker/telemetry/langfuse/request-metadata.ts';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { posthogBatchUrl, posthogEvent } from './posthog.ts';

// Key and team based PostHog logging (LiteLLM's posthog_api_key / posthog_api_url) through the dispatcher: each
// owner's events in batches of their own, to its own project, and the proxy's project key never at an owner's URL.

const ENV_KEY = 'phc_envProjectKey0123456789';
const TEAM_KEY = 'phc_teamProjectKey0123456789';
const payload = (id: string) => ({ id, trace_id: id, call_type: 'acompletion', status: 'success', model: 'gpt-4o', metadata: {}, startTime: 1, endTime: 2 });
const settings = (vars: Record<string, string>) => ({ success: true, failure: true, vars });

let envPosthog: FakePosthog;
let teamPosthog: FakePosthog;
let env: Record<string, string>;
beforeAll(async () => {
  envPosthog = await startFakePosthog({ apiKey: ENV_KEY });
  teamPosthog = await startFakePosthog({ apiKey: TEAM_KEY });
  env = { POSTHOG_API_KEY: ENV_KEY, POSTHOG_API_URL: envPosthog.url };
});
afterAll(async () => {
  await Promise.all([envPosthog?.close(), teamPosthog?.close()]);
});

const owned = (owner: string, origin: number, ids: string[]): LoggerSegment => ({ ...loggerSegment('posthog', origin, ids.map(payload)), owner });
const spansOf = (fake: FakePosthog) => fake.events().map((e) => e.properties.$ai_span_id);

async function deliver(segments: LoggerSegment[], owners: Record<string, Record<string, string>>) {
  const ownerEnvs = new Map(Object.entries(owners).map(([owner, vars]) => [`posthog\n${owner}`, ownerEnvOf('posthog', settings(vars), env, 'team')]));
  const reports: string[] = [];
  const retried: number[] = [];
  await deliverLoggers(segments, env, (c, e) => reports.push(`${c}: ${e.message}`), (o) => retried.push(o), ownerEnvs);
  return { reports, retried };
}

describe("posthog with keys' and teams' own projects", () => {
  it("sends a team's events with its key to its URL, the others' with the environment's, never in one batch", async () => {
    const { reports, retried } = await deliver(
      [loggerSegment('posthog', 0, [payload('cfg-1')]), owned('team:a', 1, ['team-1', 'team-2']), loggerSegment('posthog', 2, [payload('cfg-2')])],
      { 'team:a': { posthog_api_key: TEAM_KEY, posthog_api_url: teamPosthog.url } },
    );
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    expect(spansOf(teamPosthog)).toEqual(['team-1', 'team-2']);
    expect(spansOf(envPosthog)).toEqual(['cfg-1', 'cfg-2']);
    expect(teamPosthog.batches.every((b) => b.apiKey === TEAM_KEY)).toBe(true);
    expect(JSON.stringify([teamPosthog.batches, teamPosthog.dropped])).not.toContain(ENV_KEY);
    expect(JSON.stringify([envPosthog.batches, envPosthog.dropped])).not.toContain(TEAM_KEY);
  });

  it("keeps for a retry, sending nowhere, a team's URL without a key of its own; the environment's key never goes there", async () => {
    const before = teamPosthog.batches.length + teamPosthog.dropped.length;
    const envBefore = envPosthog.events().length;
    const { reports, retried } = await deliver([owned('team:b', 3, ['orphan-1'])], { 'team:b': { posthog_api_url: teamPosthog.url } });
    expect(retried).toEqual([3]);
    expect(reports).toEqual([expect.stringContaining('no posthog_api_key of its own for its posthog_api_url')]);
    expect(reports.join('')).not.toContain(ENV_KEY);
    expect(teamPosthog.batches.length + teamPosthog.dropped.length).toBe(before);
    expect(envPosthog.events().length).toBe(envBefore);
  });

  it("sends owners sharing one URL (two teams, and the config) each with its own key, never one batch for the URL", async () => {
    const keys: Record<string, string> = { 'team:c': 'phc_teamCProjectKey0123456789', 'team:d': 'phc_teamDProjectKey0123456789' };
    const before = envPosthog.batches.length + envPosthog.dropped.length;
    const { reports, retried } = await deliver(
      [owned('team:c', 5, ['c-1', 'c-2']), owned('team:d', 6, ['d-1']), loggerSegment('posthog', 7, [payload('cfg-3')]), owned('team:c', 8, ['c-3'])],
      Object.fromEntries(Object.entries(keys).map(([owner, key]) => [owner, { posthog_api_key: key, posthog_api_url: envPosthog.url }])),
    );
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    const sent = [...envPosthog.batches, ...envPosthog.dropped].slice(before);
    const keyOf = (span: string) => (span.startsWith('c-') ? keys['team:c'] : span.startsWith('d-') ? keys['team:d'] : ENV_KEY);
    const spans = sent.flatMap((b) => b.events.map((e) => ({ span: e.properties.$ai_span_id as string, apiKey: b.apiKey })));
    expect(spans.map((s) => s.span).sort()).toEqual(['c-1', 'c-2', 'c-3', 'cfg-3', 'd-1']);
    for (const { span, apiKey } of spans) expect(apiKey, span).toBe(keyOf(span));
  });
});

describe('a client\'s own posthog settings in its request metadata', () => {
  const headers = { get: () => null, forEach: () => {} };
  const clientOwn = { posthog_api_key: 'phc_clientOwnKey0123456789', posthog_api_url: 'https://client-posthog.example', project: 'blue' };
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: clientOwn };
  const call: StandardCall = {
    record: {
      request_id: 'c-1', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: '2026-11-27T10:00:01.000Z', model: 'gpt-4o',
      model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', metadata: {},
      cache_hit: false, cache_key: null, request_tags: [], end_user: null,
    },
    endpoint: 'chat', body, stream: false, headers, outcome: { responseText: 'hello' },
  };

  it('reach no logger: not the standard payload (every standard logger), its PostHog event, nor the Langfuse or OpenInference metadata', async () => {
    const options = { turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024 };
    const standard = buildStandardPayload(call, options);
    const event = await posthogEvent(standard);
    const { requester } = requestLangfuseMetadata(body, headers);
    expect(requester).toEqual({ project: 'blue' });
    expect(event.properties).toMatchObject({ project: 'blue' });
    for (const made of [standard, event, requester]) expect(JSON.stringify(made)).not.toMatch(/phc_clientOwnKey|client-posthog/);
  });
});

describe('the batch URL', () => {
  it("is the environment's own for every URL the environment's key is sent to (one rule, base-url.ts)", () => {
    const env = { POSTHOG_API_KEY: 'phc_env-key-0001', POSTHOG_API_URL: 'https://PH.example.com/ingest/' };
    const tricky = [
      'https://ph.example.com/ingest', 'HTTPS://Ph.Example.COM:443/ingest//', 'https://ph.example.com/ingest?x=1#y', 'https://ph.example.com/ingest/?/../other',
      'https://ph.example.com/ingest#/../../evil', 'https://ph.example.com/x/../ingest', 'https://ph.example.com/ingest/.', 'https://ph.example.com\\ingest',
      'https://ph.example.com/%69ngest', 'https://ph.example.com/ingest%2F', 'https://ph.example.com./ingest', 'https://user:pw@ph.example.com/ingest',
      'https://ph.example.com@evil.example/ingest', 'http://ph.example.com:443/ingest', 'https://ph.example.com:8443/ingest', 'https://ph.example.com/ingest/..',
      'https://ph.example.com/ingest/other', 'ph.example.com/ingest', 'not a url',
    ];
    const envBatch = posthogBatchUrl(env.POSTHOG_API_URL);
    expect(envBatch).toBe('https://ph.example.com/ingest/batch/');
    const taking = tricky.filter((u) => takesEnvKey(u, env, POSTHOG_KEYED));
    expect(taking.length).toBeGreaterThan(5);
    for (const u of taking) expect(posthogBatchUrl(u), u).toBe(envBatch);
    for (const u of tricky.filter((t) => !taking.includes(t))) expect(posthogBatchUrl(u), u).not.toBe(envBatch);
  });

  it("is the URL's origin and path with /batch/: a query or fragment (one read from os.environ/, or set before they were refused) is left out", async () => {
    expect(posthogBatchUrl(new URL('https://eu.i.posthog.com'))).toBe('https://eu.i.posthog.com/batch/');
    expect(posthogBatchUrl(new URL('https://ph.example/ingest//?region=eu#top'))).toBe('https://ph.example/ingest/batch/');
    const { reports, retried } = await deliver([owned('team:q', 4, ['query-1'])], { 'team:q': { posthog_api_key: TEAM_KEY, posthog_api_url: `${teamPosthog.url}/?region=eu#top` } });
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    expect(spansOf(teamPosthog)).toContain('query-1');
    expect(teamPosthog.malformed).toEqual([]);
  });
});
