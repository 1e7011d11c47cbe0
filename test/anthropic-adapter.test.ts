import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../worker/errors.ts';
import type { DeploymentRef } from '../worker/models/deployments.ts';
import { anthropic } from '../worker/providers/anthropic/index.ts';
import type { ProviderCall } from '../worker/providers/types.ts';
import { jsonFixture, startFakeAnthropic } from './fakes/anthropic.ts';
import type { FakeUpstream } from './fakes/upstream.ts';

// The adapter called directly (no Worker), against the fake Anthropic on loopback.
let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(() => fake?.close());
beforeEach(() => fake.reset());

const deployment = (params: Partial<DeploymentRef['params']> = {}): DeploymentRef => ({
  id: 'dep-1', group: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5',
  params: { model: 'anthropic/claude-sonnet-4-5', api_base: fake.url, api_key: 'sk-ant-test-key-0001', ...params }, info: {},
});

const call = (overrides: Partial<ProviderCall> & { headers?: Headers } = {}): ProviderCall => ({
  endpoint: 'chat',
  deployment: deployment(),
  body: { model: 'claude', messages: [{ role: 'user', content: 'hello' }] },
  stream: false,
  clientWantsUsage: false,
  dropParams: false,
  env: {},
  timeoutMs: 5_000,
  promptTokenEstimate: 2,
  keepText: false,
  ...overrides,
});

describe('anthropic adapter', () => {
  it('sends the deployment\'s betas and the client\'s anthropic-beta, joined', async () => {
    fake.enqueue(jsonFixture('text'));
    await anthropic.call(call({
      deployment: deployment({ extra_headers: { 'anthropic-beta': 'context-1m-2025-08-07' } }),
      headers: new Headers({ 'anthropic-beta': 'files-api-2025-04-14, interleaved-thinking-2025-05-14' }),
    }));
    expect(fake.requests[0]?.headers).toMatchObject({
      'x-api-key': 'sk-ant-test-key-0001',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'context-1m-2025-08-07,files-api-2025-04-14,interleaved-thinking-2025-05-14',
    });
  });

  it('ignores an anthropic-beta header that is not a list of names', async () => {
    fake.enqueue(jsonFixture('text'));
    await anthropic.call(call({ headers: new Headers({ 'anthropic-beta': 'files api; x=1' }) }));
    expect(fake.requests[0]?.headers['anthropic-beta']).toBeUndefined();
  });

  it('takes api_base with /v1 or /v1/messages, and the key from ANTHROPIC_API_KEY', async () => {
    await anthropic.call(call({ deployment: deployment({ api_base: `${fake.url}/v1/messages`, api_key: undefined }), env: { ANTHROPIC_API_KEY: 'sk-ant-from-env-0002' } }));
    expect(fake.requests[0]).toMatchObject({ path: '/v1/messages', headers: { 'x-api-key': 'sk-ant-from-env-0002' } });
  });

  it('times out a silent upstream with a 408 and an unreachable one with a 500', async () => {
    fake.enqueue({ kind: 'hang' });
    const timeout = await anthropic.call(call({ timeoutMs: 300 })).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(GatewayError);
    expect(timeout).toMatchObject({ status: 408, type: 'timeout_error', message: 'litellm.Timeout: AnthropicException - Request timed out after 0.3 seconds' });
    const refused = await anthropic.call(call({ deployment: deployment({ api_base: 'http://127.0.0.1:9' }) })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 500, type: 'api_connection_error' });
  });

  it('times out a stream whose first event does not come', async () => {
    fake.enqueue({ kind: 'sse', events: [], firstByteDelayMs: 2_000 });
    const err = await anthropic.call(call({ stream: true, timeoutMs: 300 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 408 });
  });
});
