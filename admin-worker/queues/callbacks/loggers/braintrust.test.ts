import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBraintrust, startFakeBraintrust } from '../../../../test/fakes/braintrust.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import { braintrustEvent, projectOf } from './braintrust.ts';

// LiteLLM's Braintrust event, from a StandardLoggingPayload: what Braintrust's UI reads (input, output,
// metrics for tokens and cost, metadata.model for its own cost estimate).

const payload = {
  id: 'call-1', status: 'success', model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 100, endTime: 101.5, completionStartTime: 100.25,
  messages: [{ role: 'user', content: 'hi' }],
  response: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] },
  metadata: { user_api_key_hash: 'abc', user_api_key_alias: 'k', requester_metadata: { project_name: 'p', span_name: 'bot', headers: { x: 1 }, team: 'blue' } },
};

describe('the braintrust event', () => {
  it('is LiteLLM\'s: messages in, choices out, the client\'s metadata beside the call\'s, cost and model, token metrics, the span named', () => {
    expect(braintrustEvent(payload)).toEqual({
      id: 'call-1',
      input: [{ role: 'user', content: 'hi' }],
      output: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
      metadata: { user_api_key_hash: 'abc', user_api_key_alias: 'k', project_name: 'p', span_name: 'bot', team: 'blue', litellm_response_cost: 0.0012, model: 'gpt-4o' },
      tags: [],
      span_attributes: { name: 'bot', type: 'llm' },
      metrics: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, total_cost: 0.0012, start: 100, end: 101.5, time_to_first_token: 0.25 },
    });
  });

  it('has no output for an answer without choices (embeddings), and names LiteLLM\'s default span', () => {
    const event = braintrustEvent({ ...payload, response: { object: 'list', data: [] }, metadata: {} });
    expect(event.output).toEqual([]);
    expect(event.span_attributes).toEqual({ name: 'Chat Completion', type: 'llm' });
  });

  it('keeps the gateway\'s attribution over the client\'s same-named keys, and no truncation marker of cut metadata', () => {
    const forged = { user_api_key_hash: 'forged', user_api_key_team_id: 'other-team', spend_logs_metadata: 'forged', applied_guardrails: ['none'], team: 'blue' };
    const event = braintrustEvent({ ...payload, metadata: { user_api_key_hash: 'abc', user_api_key_team_id: 't1', spend_logs_metadata: null, applied_guardrails: [], requester_metadata: forged } });
    expect(event.metadata).toMatchObject({ user_api_key_hash: 'abc', user_api_key_team_id: 't1', spend_logs_metadata: null, applied_guardrails: [], team: 'blue' });
    const cut = braintrustEvent({ ...payload, metadata: { user_api_key_hash: 'abc', requester_metadata: { truncated: true, original_chars: 40000, head: '{"project_id":"p1","secret_note', project_id: 'p1', span_name: 'bot' } } });
    expect(cut.metadata).toEqual({ user_api_key_hash: 'abc', project_id: 'p1', span_name: 'bot', litellm_response_cost: 0.0012, model: 'gpt-4o' });
    expect(cut.span_attributes).toEqual({ name: 'bot', type: 'llm' });
  });

  it('marks a project_id no insert URL may hold (".", "..", a "/") as bad, never a path', () => {
    for (const id of ['.', '..', '../../project', 'a/b']) expect(projectOf({ metadata: { requester_metadata: { project_id: id } } })).toEqual({ id, name: '', bad: true });
  });

  it('goes to the project_id the call names, else its project_name, else LiteLLM\'s "litellm"', () => {
    expect(projectOf({ metadata: { requester_metadata: { project_id: 'id-1', project_name: 'p' } } })).toEqual({ id: 'id-1', name: '' });
    expect(projectOf({ metadata: { requester_metadata: { project_name: 'p' } } })).toEqual({ name: 'p' });
    expect(projectOf({ metadata: {} })).toEqual({ name: 'litellm' });
  });
});

// The poster against a fake Braintrust API on loopback, through the dispatcher: what one caller's project does
// to the other calls in the same batch.
describe('the braintrust poster', () => {
  const API_KEY = 'bt-unit-api-key-0123456789';
  let braintrust: FakeBraintrust;
  let env: Record<string, string>;
  beforeAll(async () => {
    braintrust = await startFakeBraintrust({ apiKey: API_KEY });
    env = { BRAINTRUST_API_KEY: API_KEY, BRAINTRUST_API_BASE: `${braintrust.url}/v1` };
  });
  afterAll(async () => {
    await braintrust?.close();
  });

  const call = (id: string, requester: Record<string, unknown> = {}) => ({ ...payload, id, metadata: { requester_metadata: requester } });
  const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('braintrust', origin, payloads);
  const deliver = (segments: LoggerSegment[]) => deliverSegments(segments, env);
  const rowsOf = (id: string) => braintrust.inserts.flatMap((i) => i.events.filter((e) => e.id === id));

  it('sets aside only the payloads of a project_name Braintrust refuses (403, 409, 400): the default project\'s call in the batch arrives, nothing retried', async () => {
    for (const [name, status] of [['not-yours', 403], ['taken-name', 409], ['bad name', 400]] as const) {
      braintrust.refuseProject(name, status);
      const { reports, retried } = await deliver([segment(0, [call(`refused-${status}`, { project_name: name }), call(`default-${status}`)])]);
      braintrust.refuseProject(name, undefined);
      expect(rowsOf(`default-${status}`)).toHaveLength(1);
      expect(rowsOf(`refused-${status}`)).toHaveLength(0);
      expect(retried).toEqual([]);
      expect(reports).toEqual([expect.stringContaining(`project_name "${name}" was refused (HTTP ${status})`)]);
    }
  });

  it('retries a batch when registering a caller\'s project_name fails on Braintrust\'s side (503) or the key is refused (401)', async () => {
    for (const status of [503, 401]) {
      braintrust.refuseProject('flaky-project', status);
      const { retried } = await deliver([segment(7, [call(`flaky-${status}`, { project_name: 'flaky-project' }), call(`after-flaky-${status}`)])]);
      braintrust.refuseProject('flaky-project', undefined);
      expect(retried).toEqual([7]);
    }
  });

  it('retries a lone payload whose project_id Braintrust does not know (the key may be at fault), drops it beside a taken one', async () => {
    const bogus = '11111111-1111-1111-1111-111111111111';
    const alone = await deliver([segment(3, [call('lone-bogus', { project_id: bogus })])]);
    expect(alone.retried).toEqual([3]);
    const mixed = await deliver([segment(4, [call('mixed-bogus', { project_id: bogus }), call('mixed-default')])]);
    expect(mixed.retried).toEqual([]);
    expect(rowsOf('mixed-default')).toHaveLength(1);
    expect(mixed.reports).toEqual([expect.stringContaining(`project_id "${bogus}" was refused (HTTP 404)`)]);
  });
});
