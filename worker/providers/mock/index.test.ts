import { describe, expect, it } from 'vitest';
import type { ProviderCall } from '../types.ts';
import { mock } from './index.ts';

const call = (endpoint: 'chat' | 'completion'): ProviderCall => ({
  endpoint,
  deployment: { id: 'd1', group: 'fake', provider: 'mock', model: 'fake-model', params: { model: 'mock/fake-model' }, info: {} },
  body: { mock_response: 'Hi there' },
  stream: true,
  clientWantsUsage: false,
  dropParams: false,
  env: {},
  timeoutMs: 1000,
  promptTokenEstimate: 3,
  keepText: true,
});

describe('mock', () => {
  it.each(['chat', 'completion'] as const)('says what its %s stream\'s chunks were called, as a relay keeps it for the cache', async (endpoint) => {
    const answer = await mock.call(call(endpoint));
    const first = JSON.parse((await new Response(answer.body as ReadableStream).text()).split('\n\n')[0]!.slice(6)) as Record<string, unknown>;
    expect((await answer.outcome).streamedAs).toEqual({ id: first.id, created: first.created, model: 'fake-model' });
    expect(first.id).toMatch(endpoint === 'chat' ? /^chatcmpl-/ : /^cmpl-/);
  });
});
