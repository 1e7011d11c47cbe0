import { describe, expect, it } from 'vitest';
import { retryDelay, RETRY_DELAYS_S } from '../admin-worker/queues/callbacks/retry.ts';
import { WORKERS } from '../scripts/lib/build.ts';
import { readWranglerConfig } from '../scripts/lib/workerd-config.ts';
import type { Caller } from '../worker/auth/authenticate.ts';
import type { KeyPolicy } from '../worker/auth/key-policy.ts';
import { configSchema } from '../worker/config/schema.ts';
import { langfuseDestination } from '../worker/telemetry/langfuse/logging-settings.ts';
import { fitItem, ITEM_BYTES } from '../worker/telemetry/langfuse/packing.ts';
import { inflatePack, packMessages } from '../worker/telemetry/queue-packing.ts';
import { CALLBACK_MESSAGE_CHARS, callbackMessageText } from '../worker/telemetry/langfuse/message.ts';
import type { CallbackItem, GenerationBody, IngestionEvent } from '../worker/telemetry/langfuse/types.ts';
import { generationBodySchema, traceBodySchema } from './fakes/langfuse.ts';
import { build, callEvent, policy, record } from './support/langfuse-events.ts';

describe('the Langfuse events of a call', () => {
  it('log a text completion\'s answer as text and an embedding\'s as nothing', () => {
    const completion = build(callEvent({ endpoint: 'completion', body: { model: 'gpt-4o', prompt: 'Say this', max_tokens: 5 }, record: record({ call_type: 'atext_completion' }) }));
    expect(completion.generation).toMatchObject({ name: 'litellm:my-key', input: { messages: 'Say this' }, output: 'hello', modelParameters: { max_tokens: 5 } });
    expect(completion.trace?.name).toBe('litellm-atext_completion');
    const embedding = build(callEvent({ endpoint: 'embedding', body: { model: 'e', input: ['a', 'b'] }, record: record({ call_type: 'aembedding' }) }));
    expect(embedding.generation.input).toEqual({ messages: ['a', 'b'] });
    expect(embedding.generation.output).toBeUndefined();
  });

  it('mark a stream the client left as a warning, with the estimated usage it had', () => {
    const { generation } = build(callEvent({ outcome: { aborted: true }, record: record({ completionStartTime: '2026-11-25T10:00:00.500Z', metadata: { usage_estimated: true, client_disconnected: true } }) }));
    expect(generation).toMatchObject({ level: 'WARNING', completionStartTime: '2026-11-25T10:00:00.500Z', statusMessage: expect.stringContaining('disconnected') });
    expect(generation.metadata).toMatchObject({ usage_estimated: true, client_disconnected: true });
  });

  it('pass tools into the input and non-scalar parameters as JSON text', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: {} } }];
    const { generation } = build(callEvent({ body: { model: 'gpt-4o', messages: [], tools, stop: ['a', 'b'], response_format: { type: 'json_object' }, seed: 3, tags: ['t'], mock_response: 'x' } }));
    expect(generation.input).toEqual({ messages: [], tools });
    expect(generation.modelParameters).toEqual({ stop: ['a', 'b'], response_format: '{"type":"json_object"}', seed: 3 });
  });

  it('never copy a credential a client sent in the body into modelParameters (the list every callback shares)', () => {
    const body = { model: 'gpt-4o', messages: [], temperature: 0.1, langfuse_secret_key: 'sk-lf-body-1', aws_secret_access_key: 'aws-body-2', vertex_credentials: 'vc-body-3', azure_ad_token: 'ad-body-4', extra_headers: { authorization: 'Bearer hdr-body-5' } };
    const { generation } = build(callEvent({ body }));
    expect(generation.modelParameters).toEqual({ temperature: 0.1 });
    expect(JSON.stringify(generation)).not.toMatch(/sk-lf-body-1|aws-body-2|vc-body-3|ad-body-4|hdr-body-5/);
  });

  it('add default tags from the proxy metadata and PROXY_BASE_URL, and never log credentials a client sends', () => {
    const body = { model: 'gpt-4o', messages: [], metadata: { langfuse_secret_key: 'sk-lf-oops', langfuse_public_key: 'pk', app: 'x' } };
    const { trace, generation } = build(callEvent({ body, record: record({ request_tags: ['a'] }) }), {
      defaultTags: ['user_api_key_alias', 'user_api_key_team_alias', 'cache_hit', 'proxy_base_url', 'app'], proxyBaseUrl: 'https://gw.example',
    });
    expect(trace?.tags).toEqual(['a', 'user_api_key_alias:my-key', 'user_api_key_team_alias:Team One', 'cache_hit:False', 'proxy_base_url:https://gw.example', 'app:x']);
    expect(JSON.stringify(generation)).not.toContain('sk-lf-oops');
  });

  it('validate against the trace and generation schemas of the fake', () => {
    const { trace, generation } = build(callEvent());
    expect(traceBodySchema.parse(trace)).toBeTruthy();
    expect(generationBodySchema.parse(generation)).toBeTruthy();
  });
});

describe('which calls go to Langfuse, and whose project', () => {
  const config = (litellm: Record<string, unknown>) => configSchema.parse({ litellm_settings: litellm });
  const master: Caller = { kind: 'master', token: 'm' };
  const keyCaller = (p: Partial<KeyPolicy>): Caller => ({ kind: 'key', token: 'hash-of-key', policy: policy(p) });
  const logging = (type: string | undefined, vars: Record<string, string> = {}) => ({ logging: [{ callback_name: 'langfuse', ...(type ? { callback_type: type } : {}), callback_vars: vars }] });

  it('follow success_callback, failure_callback and callbacks', () => {
    expect(langfuseDestination(config({ success_callback: ['langfuse'] }), master, false)).toEqual({ source: 'env' });
    expect(langfuseDestination(config({ success_callback: ['langfuse'] }), master, true)).toBeUndefined();
    expect(langfuseDestination(config({ failure_callback: ['langfuse'] }), master, false)).toBeUndefined();
    expect(langfuseDestination(config({ failure_callback: ['langfuse'] }), master, true)).toEqual({ source: 'env' });
    expect(langfuseDestination(config({ callbacks: ['langfuse'] }), master, true)).toEqual({ source: 'env' });
    expect(langfuseDestination(config({ success_callback: ['prometheus'] }), master, false)).toBeUndefined();
  });

  it('follow a key\'s metadata.logging, sending to its project when it names credentials', () => {
    const off = config({});
    expect(langfuseDestination(off, keyCaller({ metadata: logging('success', { langfuse_public_key: 'pk' }) }), false)).toEqual({ source: 'key', token: 'hash-of-key' });
    expect(langfuseDestination(off, keyCaller({ metadata: logging('success', { langfuse_public_key: 'pk' }) }), true)).toBeUndefined();
    expect(langfuseDestination(off, keyCaller({ metadata: logging(undefined) }), true)).toEqual({ source: 'env' });
    // Globally on: the key's credentials still win, for failures too.
    expect(langfuseDestination(config({ failure_callback: ['langfuse'] }), keyCaller({ metadata: logging('success', { langfuse_secret_key: 's' }) }), true))
      .toEqual({ source: 'key', token: 'hash-of-key' });
  });

  it('follow a team\'s logging or callback_settings, unless the key has its own logging', () => {
    const team = (metadata: Record<string, unknown>) => ({ id: 'team-1', alias: null, models: [], blocked: false, organizationId: null, metadata, modelAliases: {} });
    const off = config({});
    expect(langfuseDestination(off, keyCaller({ team: team(logging('success_and_failure', { langfuse_public_key: 'pk' })) }), true)).toEqual({ source: 'team', teamId: 'team-1' });
    const legacy = { callback_settings: { success_callback: ['langfuse'], callback_vars: { langfuse_public_key: 'pk', langfuse_secret: 's' } } };
    expect(langfuseDestination(off, keyCaller({ team: team(legacy) }), false)).toEqual({ source: 'team', teamId: 'team-1' });
    expect(langfuseDestination(off, keyCaller({ team: team(legacy) }), true)).toBeUndefined();
    const shadowed = keyCaller({ metadata: { logging: [{ callback_name: 'otel' }] }, team: team(legacy) });
    expect(langfuseDestination(off, shadowed, false)).toBeUndefined();
  });
});

describe('queue messages', () => {
  const item = (callId: string, text: string): CallbackItem => ({
    callback: 'langfuse', callId, destination: { source: 'env' },
    events: build(callEvent({ body: { model: 'gpt-4o', messages: [{ role: 'user', content: text }] }, outcome: { responseText: text } })).events,
  });

  it('fit a huge prompt by cutting the prompt and answer fields, marked as truncated', () => {
    const fitted = fitItem(item('big', 'é'.repeat(300_000)));
    expect(fitted).not.toBeNull();
    expect(fitted!.bytes).toBeLessThanOrEqual(100 * 1024);
    // `bytes` is an upper bound of the encoded size (it is computed without encoding).
    expect(new TextEncoder().encode(fitted!.json).length).toBeLessThanOrEqual(fitted!.bytes);
    // The events' JSON, comma-separated: what the message's event array is made of.
    const events = JSON.parse(`[${fitted!.json}]`) as IngestionEvent[];
    expect(fitted!.events).toBe(events.length);
    const gen = events.find((e) => e.type === 'generation-create')!.body as GenerationBody;
    expect(gen.input).toMatchObject({ truncated: true, original_chars: expect.any(Number) });
    expect(gen.usage).toMatchObject({ input: 6, output: 4 });
  });

  it('keep a long mostly-ASCII prompt whole when one non-ASCII character is in it and it fits as encoded', () => {
    // ~10,000 characters a field, the prompt and answer each held in the trace and the generation: 3 bytes a
    // character would call it over the item limit and cut it; its real size is a third of that.
    const text = `${'x'.repeat(10_000)} ’`;
    const fitted = fitItem(item('mostly-ascii', text))!;
    expect(fitted.json.length * 3).toBeGreaterThan(ITEM_BYTES);
    expect(fitted.bytes).toBe(new TextEncoder().encode(fitted.json).length);
    const gen = (JSON.parse(`[${fitted.json}]`) as IngestionEvent[]).find((e) => e.type === 'generation-create')!.body as GenerationBody;
    expect(gen.input).toEqual({ messages: [{ role: 'user', content: text }] });
    expect(gen.output).toMatchObject({ content: text });
  });

  it('are packed compressed, a header line and the events as Langfuse takes them, in order', () => {
    const items = Array.from({ length: 30 }, (_, i) => fitItem(item(`c${i}`, 'x'.repeat(3_000)))!);
    const events = items.flatMap((f) => JSON.parse(`[${f.json}]`) as IngestionEvent[]);
    const packed = [...packMessages(items, (joined, group) => callbackMessageText({ source: 'env' }, group.reduce((n, f) => n + f.events, 0), joined), CALLBACK_MESSAGE_CHARS)];
    // Similar items compress: one message holds them all, far under the cap.
    expect(packed).toHaveLength(1);
    const text = new TextDecoder().decode(inflatePack((packed[0] as { body: Uint8Array }).body));
    const [header, array] = [text.slice(0, text.indexOf('\n')), text.slice(text.indexOf('\n') + 1)];
    expect(JSON.parse(header)).toEqual({ v: 2, destination: { source: 'env' }, events: events.length });
    expect(JSON.parse(array)).toEqual(events);
  });

});

describe('the callback consumer\'s retries', () => {
  it('wait longer each time, then leave the message to the dead-letter queue after max_retries', () => {
    expect([1, 2, 3, 4, 5, 9].map(retryDelay)).toEqual([2, 30, 120, 600, 3600, 3600]);
    const admin = readWranglerConfig(WORKERS.admin);
    expect(admin.queues.consumers?.find((c) => c.queue === 'tollgate-callbacks')).toMatchObject({ max_retries: RETRY_DELAYS_S.length, dead_letter_queue: 'tollgate-callbacks-dlq' });
    const gateway = readWranglerConfig(WORKERS.gateway);
    expect(gateway.queues.producers?.find((p) => p.binding === 'CALLBACK_QUEUE')).toMatchObject({ queue: 'tollgate-callbacks' });
  });
});
