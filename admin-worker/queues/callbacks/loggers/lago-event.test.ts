// The lago event LiteLLM bills by, built from a StandardLoggingPayload; Lago's per-event errors; the lago settings.
import { describe, expect, it } from 'vitest';
import { payload } from '../../../../test/support/lago-poster.ts';
import { lagoEvent, lagoPoster, perEventErrors } from './lago.ts';


// LiteLLM's Lago usage event, from a StandardLoggingPayload: what Lago bills by (the customer's subscription, the

describe('the lago event', () => {
  it('is LiteLLM\'s: the call id as transaction id, the end user\'s subscription, the event code, model, cost and tokens; the call\'s time', () => {
    expect(lagoEvent(payload, 'llm_usage', 'end_user_id')).toEqual({
      transaction_id: 'call-1', external_subscription_id: 'customer-7', code: 'llm_usage', timestamp: 101.5,
      properties: { model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
    });
  });

  it('charges the key\'s user or team by LAGO_API_CHARGE_BY, and no one when that is missing', () => {
    expect(lagoEvent(payload, 'c', 'user_id')?.external_subscription_id).toBe('user-3');
    expect(lagoEvent(payload, 'c', 'team_id')?.external_subscription_id).toBe('team-9');
    expect(lagoEvent({ ...payload, end_user: null }, 'c', 'end_user_id')).toBeUndefined();
    expect(lagoEvent({ ...payload, metadata: { user_api_key_team_id: null } }, 'c', 'team_id')).toBeUndefined();
  });

  it('carries token counts for chat completions and embeddings only, as LiteLLM reads them from those answers', () => {
    expect(lagoEvent({ ...payload, call_type: 'aembedding' }, 'c', 'end_user_id')?.properties).toMatchObject({ prompt_tokens: 11 });
    expect(lagoEvent({ ...payload, call_type: 'aresponses' }, 'c', 'end_user_id')?.properties).toEqual({ model: 'gpt-4o', response_cost: 0.0012 });
  });

  it('reads a 422\'s errors by event index, and nothing from a refusal of the whole batch', () => {
    const body = JSON.stringify({ status: 422, code: 'validation_errors', error_details: { 1: { transaction_id: ['value_already_exist'] } } });
    expect(perEventErrors(body, 2)).toEqual(new Map([[1, { transaction_id: ['value_already_exist'] }]]));
    expect(perEventErrors(body, 1)).toBeUndefined();
    expect(perEventErrors(JSON.stringify({ error_details: { events: ['too_many_events'] } }), 2)).toBeUndefined();
    expect(perEventErrors('<html>', 2)).toBeUndefined();
  });
});

describe('the lago settings', () => {
  const whereOf = (target: ReturnType<typeof lagoPoster.target>) => ('error' in target ? target.error : target.where);
  it('need LAGO_API_BASE, LAGO_API_KEY and LAGO_API_EVENT_CODE, and a LAGO_API_CHARGE_BY LiteLLM knows', () => {
    expect(whereOf(lagoPoster.target({ LAGO_API_KEY: 'k-123456' }))).toBe('LAGO_API_BASE, LAGO_API_EVENT_CODE not set for the admin Worker');
    const env = { LAGO_API_BASE: 'https://lago.example.test/', LAGO_API_KEY: 'k-123456', LAGO_API_EVENT_CODE: 'c' };
    expect(whereOf(lagoPoster.target(env))).toBe('https://lago.example.test');
    expect(whereOf(lagoPoster.target({ ...env, LAGO_API_CHARGE_BY: 'org_id' }))).toBe('LAGO_API_CHARGE_BY must be one of end_user_id, user_id, team_id');
    expect(whereOf(lagoPoster.target({ ...env, LAGO_API_BASE: 'https://user:pw@lago.example.test' }))).toBe('LAGO_API_BASE must not carry credentials in the URL');
  });
});
