import { expect } from 'vitest';
import type { KeyPolicy } from '../../worker/auth/key-policy.ts';
import { buildLangfuseEvents, type LangfuseCall, type LangfuseOptions } from '../../worker/telemetry/langfuse/events.ts';
import type { GenerationBody, TraceBody } from '../../worker/telemetry/langfuse/types.ts';
import { ingestionEventSchema } from '../fakes/langfuse.ts';

export const OPTIONS: LangfuseOptions = { turnOffMessageLogging: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, defaultTags: [] };

export function policy(overrides: Partial<KeyPolicy> = {}): KeyPolicy {
  const base = {
    token: 'hash-of-key', keyName: 'sk-...abcd', keyAlias: 'my-key', userId: 'user-1', organizationId: null, models: [],
    blocked: false, expires: null, spend: 0, maxBudget: null, metadata: {}, tags: [],
    team: { id: 'team-1', alias: 'Team One', models: [], blocked: false, organizationId: null, metadata: {} },
  };
  // KeyPolicy grows fields (limits, cache controls) these tests do not read.
  return { ...base, ...overrides } as KeyPolicy;
}

export function record(overrides: Partial<LangfuseCall['record']> = {}): LangfuseCall['record'] {
  return {
    request_id: 'call-1', call_type: 'acompletion', api_key: 'hash-of-key', spend: 0.0001, total_tokens: 10, prompt_tokens: 6,
    completion_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, startTime: '2026-11-25T10:00:00.000Z',
    endTime: '2026-11-25T10:00:01.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'model-id',
    model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1/chat/completions',
    metadata: { user_api_key_alias: 'my-key', user_api_key_user_id: 'user-1', user_api_key_team_id: 'team-1', user_api_key_team_alias: 'Team One', user_api_key_org_id: null },
    cache_hit: false, cache_key: null, request_tags: [], end_user: null, session_id: null,
    ...overrides,
  };
}

export function callEvent(overrides: Partial<LangfuseCall> = {}): LangfuseCall {
  return {
    record: record(),
    endpoint: 'chat',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
    outcome: { responseText: 'hello' },
    headers: new Headers(),
    finishedAt: Date.parse('2026-11-25T10:00:01.000Z'),
    ...overrides,
  };
}

export const build = (event: LangfuseCall, options: Partial<LangfuseOptions> = {}) => {
  const events = buildLangfuseEvents(event, { ...OPTIONS, ...options });
  // Whatever is built must pass Langfuse's schema.
  for (const e of events) expect(ingestionEventSchema.safeParse(e).error?.issues ?? []).toEqual([]);
  return {
    events,
    trace: events.find((e) => e.type === 'trace-create')?.body as TraceBody | undefined,
    generation: events.find((e) => e.type === 'generation-create')?.body as GenerationBody,
  };
};
