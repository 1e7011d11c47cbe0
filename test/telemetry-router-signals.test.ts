import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * What the router tells the outside world: cooldowns and fallbacks on
 * GET /metrics (LiteLLM's names and labels), the "Deployment Cooldown" Slack
 * alert (one per deployment a minute), and what `store_prompts_in_spend_logs`
 * and request tags put in LiteLLM_SpendLogs.
 */

// --- a small reader of the Prometheus text (metrics.test.ts checks the format itself strictly) ---

interface Sample { name: string; labels: Record<string, string>; value: number }

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k as string] = (v as string).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] as string, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return samples;
}

const matching = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The one series of `name` whose labels include `labels` (0 when there is none; more than one is an error). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = matching(samples, name, labels);
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

let stack: TestStack;
let bad: FakeUpstream;
let good: FakeUpstream;
let down: FakeUpstream;
let slack: FakeSlack;
let master: OpenAI;

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${stack.url}/metrics`);
  expect(res.status).toBe(200);
  return parseSamples(await res.text());
}

/** Polls /metrics until `check` passes (README: a request shows within 2 s). */
async function until(check: (samples: Sample[]) => void, timeoutMs = 10_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const samples = await scrape();
    try {
      check(samples);
      return samples;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw last;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serverError = (tag: string) =>
  ({ kind: 'error' as const, status: 500, body: openaiError({ message: `The server had an error while processing your request (${tag})`, type: 'server_error' }) });

beforeAll(async () => {
  [bad, good, down] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]) as [FakeUpstream, FakeUpstream, FakeUpstream];
  bad.setDefault(serverError('bad deployment'));
  down.setDefault(serverError('down'));
  slack = await startFakeSlack();
  const openai = (name: string, model: string, upstream: FakeUpstream, id: string) => `
  - model_name: ${name}
    litellm_params: {model: openai/${model}, api_base: "${upstream.url}/v1", api_key: sk-upstream-${id}-0001}
    model_info: {id: ${id}}`;
  stack = await startTestStack({
    // latency-based-routing: a deployment with no measured latency (one that only ever failed) is tried
    // first, so cool-bad is picked whenever it is not cooling down, and every cooldown is a new one.
    configYaml: `
model_list:
${openai('cool-group', 'gpt-4o', bad, 'cool-bad')}
${openai('cool-group', 'gpt-4o-mini', good, 'cool-good')}
${openai('fb-primary', 'gpt-4o', down, 'fb-primary-1')}
${openai('fb-backup', 'gpt-4o-mini', good, 'fb-backup-1')}
${openai('chain-primary', 'gpt-4o', down, 'chain-primary-1')}
${openai('chain-backup', 'gpt-4o-mini', down, 'chain-backup-1')}
${openai('echo-gpt', 'gpt-4o', good, 'echo-gpt-1')}
router_settings:
  routing_strategy: latency-based-routing
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 1
  fallbacks:
    - fb-primary: [fb-backup]
    - chain-primary: [chain-backup]
general_settings:
  alerting: ["slack"]
  store_prompts_in_spend_logs: true
`,
    env: { SLACK_WEBHOOK_URL: slack.url },
  });
  master = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  for (const f of [bad, good, down]) await f?.close();
  await slack?.close();
});

describe('a deployment entering cooldown', () => {
  it('counts litellm_deployment_cooled_down with the deployment\'s labels and sends one "Deployment Cooldown" alert a minute', async () => {
    // cool-bad answers 500 every time; the request is retried on cool-good, so the client never notices.
    for (let i = 0; i < 30 && bad.requests.length < 3; i++) {
      const { data, response } = await master.chat.completions.create({ model: 'cool-group', messages: [{ role: 'user', content: 'keep going' }] }).withResponse();
      expect(data.choices[0]?.message.content).toBe('echo: keep going');
      expect(response.headers.get('x-litellm-model-id')).toBe('cool-good');
      await sleep(300);
    }
    // cooldown_time is 1 s: the failing deployment came back and was cooled down again, more than once.
    expect(bad.requests.length).toBeGreaterThanOrEqual(3);

    const deployment = { model_id: 'cool-bad', litellm_model_name: 'gpt-4o', api_provider: 'openai', api_base: `${bad.url}/v1` };
    const samples = await until((s) => {
      expect(valueOf(s, 'litellm_deployment_cooled_down_total', deployment)).toBeGreaterThanOrEqual(2);
    });
    const [series, ...others] = matching(samples, 'litellm_deployment_cooled_down_total', { model_id: 'cool-bad' });
    expect(others).toHaveLength(0);
    // LiteLLM's label set, exactly; exception_status is the status that caused the cooldown.
    expect(series?.labels).toEqual({ ...deployment, exception_status: '500' });
    // Never more cooldowns than failures; the healthy deployment was never cooled down.
    expect(series?.value).toBeLessThanOrEqual(bad.requests.length);
    expect(matching(samples, 'litellm_deployment_cooled_down_total', { model_id: 'cool-good' })).toHaveLength(0);

    const alert = /\*Deployment Cooldown\*[\s\S]*\(id `cool-bad`\)/;
    const [first] = await slack.waitFor(alert);
    const text = first?.text ?? '';
    expect(text).toContain('Model Group: `cool-group`');
    expect(text).toContain('Model: `gpt-4o` (id `cool-bad`)');
    expect(text).toContain(`API Base: \`${bad.url}/v1\``);
    expect(text).toContain('Exception Status: `500`');
    expect(text).toContain('Cooled down for `1s`');
    expect(text).not.toContain('sk-upstream-cool-bad');

    // Another cooldown of the same deployment, well within the minute: counted, but no second alert.
    const before = valueOf(await scrape(), 'litellm_deployment_cooled_down_total', deployment);
    const hits = bad.requests.length;
    for (let i = 0; i < 30 && bad.requests.length === hits; i++) {
      await master.chat.completions.create({ model: 'cool-group', messages: [{ role: 'user', content: 'once more' }] });
      await sleep(300);
    }
    expect(bad.requests.length).toBeGreaterThan(hits);
    await until((s) => expect(valueOf(s, 'litellm_deployment_cooled_down_total', deployment)).toBeGreaterThan(before));
    // Give the isolates' flushes and the aggregator's Slack sender time to (wrongly) send another.
    await sleep(3_000);
    expect(slack.matching(alert)).toHaveLength(1);
    expect(slack.matching(/Deployment Cooldown[\s\S]*\(id `cool-good`\)/)).toHaveLength(0);
  }, 60_000);
});

describe('fallbacks', () => {
  let key: string;
  let keyClient: OpenAI;
  let caller: Record<string, string>;

  beforeAll(async () => {
    await seedTeam(stack.db.url, { id: 'team-fallbacks', alias: 'Fallback Team' });
    key = await seedKey(stack.db.url, { alias: 'fallback-key', teamId: 'team-fallbacks', userId: 'user-fb' });
    keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    caller = { hashed_api_key: sha256(key), api_key_alias: 'fallback-key', team: 'team-fallbacks', team_alias: 'Fallback Team' };
  });

  it('count a fallback that worked in litellm_deployment_successful_fallbacks, by requested and fallback model', async () => {
    const { data, response } = await keyClient.chat.completions.create({ model: 'fb-primary', messages: [{ role: 'user', content: 'rescue me' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: rescue me');
    expect(response.headers.get('x-litellm-model-group')).toBe('fb-backup');
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');

    const route = { requested_model: 'fb-primary', fallback_model: 'fb-backup' };
    const samples = await until((s) => {
      expect(valueOf(s, 'litellm_deployment_successful_fallbacks_total', { ...route, ...caller })).toBe(1);
    });
    // The error that made the gateway fall back, as LiteLLM labels it.
    expect(matching(samples, 'litellm_deployment_successful_fallbacks_total', route)[0]?.labels)
      .toEqual({ ...route, ...caller, exception_status: '500', exception_class: 'Openai.InternalServerError' });
    expect(matching(samples, 'litellm_deployment_failed_fallbacks_total', { requested_model: 'fb-primary' })).toHaveLength(0);
  });

  it('count a chain whose fallback fails too in litellm_deployment_failed_fallbacks', async () => {
    const err = await keyClient.chat.completions.create({ model: 'chain-primary', messages: [{ role: 'user', content: 'nobody home' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(down.requests.some((r) => (r.body as { model?: string }).model === 'gpt-4o-mini')).toBe(true);

    const route = { requested_model: 'chain-primary', fallback_model: 'chain-backup' };
    const samples = await until((s) => {
      expect(valueOf(s, 'litellm_deployment_failed_fallbacks_total', { ...route, ...caller })).toBe(1);
    });
    expect(matching(samples, 'litellm_deployment_failed_fallbacks_total', route)[0]?.labels)
      .toEqual({ ...route, ...caller, exception_status: '500', exception_class: 'Openai.InternalServerError' });
    expect(matching(samples, 'litellm_deployment_successful_fallbacks_total', { requested_model: 'chain-primary' })).toHaveLength(0);
    // The earlier successful fallback still counts once.
    expect(valueOf(samples, 'litellm_deployment_successful_fallbacks_total', { requested_model: 'fb-primary', fallback_model: 'fb-backup' })).toBe(1);
  });
});

describe('store_prompts_in_spend_logs and request tags', () => {
  it('store the messages and the answer in LiteLLM_SpendLogs, and the request\'s tags in request_tags', async () => {
    await seedTeam(stack.db.url, { id: 'team-prompts', alias: 'Prompt Team' });
    const key = await seedKey(stack.db.url, { alias: 'prompts-key', teamId: 'team-prompts' });
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'remember the word pineapple' },
    ];
    const { data, response } = await keyClient.chat.completions.create({
      model: 'echo-gpt',
      messages,
      tags: ['body-tag'],
      metadata: { tags: ['metadata-tag', 'body-tag'], purpose: 'spend-log test' },
    } as never, { headers: { 'x-litellm-tags': 'header-tag' } }).withResponse();
    const answer = (data as OpenAI.ChatCompletion).choices[0]?.message.content ?? '';
    expect(answer).toBe('echo: remember the word pineapple');
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    expect(row).toMatchObject({ request_id: callId, model_group: 'echo-gpt', status: 'success', api_key: sha256(key), team_id: 'team-prompts' });
    expect(row.messages).toEqual(messages);
    // LiteLLM's shape: the response object, its answer at choices[0].message.content.
    expect(row.response).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: answer } }] });
    expect((row.response as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe((data as OpenAI.ChatCompletion).usage?.completion_tokens);
    // Top-level tags, metadata.tags and the x-litellm-tags header, once each.
    expect([...(row.request_tags as string[])].sort()).toEqual(['body-tag', 'header-tag', 'metadata-tag']);

    // The tags' spend rolls up per tag.
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    expect(cost).toBeGreaterThan(0);
    const tagRows = await eventually(async () => {
      const rows = await query<{ tag: string; spend: number; api_requests: number }>(stack.db.url,
        'SELECT tag, SUM(spend)::float8 AS spend, SUM(api_requests)::int AS api_requests FROM "LiteLLM_DailyTagSpend" WHERE api_key = $1 GROUP BY tag ORDER BY tag', [sha256(key)]);
      return rows.length === 3 ? rows : undefined;
    });
    expect(tagRows.map((r) => r.tag)).toEqual(['body-tag', 'header-tag', 'metadata-tag']);
    for (const r of tagRows) {
      expect(r.api_requests).toBe(1);
      expect(r.spend).toBeCloseTo(cost, 12);
    }
  });

  it('store a streamed answer too, assembled from its chunks', async () => {
    const messages = [{ role: 'user' as const, content: 'stream these words back' }];
    const { data: stream, response } = await master.chat.completions.create({ model: 'echo-gpt', stream: true, messages }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: stream these words back');
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row.messages).toEqual(messages);
    expect(row.response).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: text } }] });
    expect(row.request_tags).toEqual([]);
  });
});
