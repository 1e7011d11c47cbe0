import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHelicone, startFakeHelicone } from '../../../../test/fakes/helicone.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import { loggerPayloads } from '../../../../worker/telemetry/standard/logger-payloads.ts';
import type { StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { standardLoggersOn } from '../../../../worker/telemetry/standard/registry.ts';
import { heliconeLog, heliconePoster } from './helicone.ts';

// LiteLLM's Helicone log request, from a StandardLoggingPayload: what Helicone's async log API reads (the provider
// from providerRequest.url, the model and messages, the answer, the timing, the request's Helicone-* headers as meta).

const payload = {
  id: 'call-1', status: 'success', model: 'gpt-4o', custom_llm_provider: 'openai', prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 1700000000.25, endTime: 1700000001.5,
  messages: [{ role: 'user', content: 'hi' }],
  response: { id: 'call-1', object: 'chat.completion', model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }], usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 } },
  metadata: {
    user_api_key_hash: 'abc',
    requester_metadata: { 'Helicone-User-Id': 'user-9', 'Helicone-Property-App': 'web', 'Helicone-Property-Retries': 3, 'helicone-property-beta': true, 'Helicone-Property-Obj': { x: 1 }, retries: 3, team: 'blue' },
  },
};

describe('the helicone log request', () => {
  it('is LiteLLM\'s for an OpenAI model: /oai/v1/log, the OpenAI URL, model and messages, the answer, the client\'s Helicone-* metadata as text meta, split times', () => {
    expect(heliconeLog(payload)).toEqual({
      path: '/oai/v1/log',
      body: {
        providerRequest: {
          url: 'https://api.openai.com/v1',
          json: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
          meta: { 'Helicone-User-Id': 'user-9', 'Helicone-Property-App': 'web', 'Helicone-Property-Retries': '3', 'helicone-property-beta': 'true' },
        },
        providerResponse: { json: payload.response, headers: { 'openai-version': '2020-10-01' }, status: 200 },
        timing: { startTime: { seconds: 1700000000, milliseconds: 250 }, endTime: { seconds: 1700000001, milliseconds: 500 } },
      },
    });
  });

  it('sends as meta only Helicone-* keys a header can carry, and no Helicone-Auth or Authorization whoever names it', () => {
    const requester = {
      'Helicone-Property-Café': 'x', 'Helicone-Property-Two Words': 'x', 'Helicone-Property-Split': 'a\r\nX-Injected: 1', 'Helicone-Property-Nul': 'a\u0000b',
      'Helicone-Property-Emoji': 'ok 😀', 'Helicone-Property-Wide': 'ĀB', 'Helicone-Property-Latin': 'café', 'Helicone-Auth': 'Bearer sk-forged', 'HELICONE-AUTH': 'Bearer sk-forged',
      authorization: 'Bearer sk-forged', run_name: 'r', project_name: 'p', parent_run_id: 'x', session_id: 's', user_id: 'u',
    };
    const meta = (heliconeLog({ ...payload, metadata: { requester_metadata: requester } }).body.providerRequest as Record<string, any>).meta;
    expect(meta).toEqual({ 'Helicone-Property-Latin': 'café' });
    expect(() => new Headers(meta)).not.toThrow();
  });

  it('names the request by the call id (Helicone-Request-Id, a UUID), never by the client\'s Helicone-Request-Id', () => {
    const callId = '0b5c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f21';
    const forged = { 'Helicone-Request-Id': '11111111-1111-4111-8111-111111111111', 'helicone-request-id': 'x', 'Helicone-User-Id': 'u-1' };
    const metaOf = (id: string) => (heliconeLog({ ...payload, id, metadata: { requester_metadata: forged } }).body.providerRequest as Record<string, any>).meta;
    expect(metaOf(callId)).toEqual({ 'Helicone-User-Id': 'u-1', 'Helicone-Request-Id': callId });
    // An id Helicone could not take as a request id: none is set.
    expect(metaOf('call-1')).toEqual({ 'Helicone-User-Id': 'u-1' });
  });

  it('logs a claude model at /anthropic/v1/log with Anthropic\'s URL and its answer as Anthropic\'s message (tool calls as tool_use)', () => {
    const claude = { ...payload, model: 'claude-3-5-haiku', response: { ...payload.response, id: 'msg-1' } };
    expect(heliconeLog(claude)).toMatchObject({
      path: '/anthropic/v1/log',
      body: {
        providerRequest: { url: 'https://api.anthropic.com/v1/messages', json: { model: 'claude-3-5-haiku' } },
        providerResponse: {
          json: {
            id: 'msg-1', type: 'message', role: 'assistant', model: 'claude-3-5-haiku', content: [{ type: 'text', text: 'hello' }],
            stop_reason: 'stop', stop_sequence: null, usage: { input_tokens: 11, output_tokens: 5 },
          },
          status: 200,
        },
      },
    });
    const toolCall = { id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } };
    const tools = heliconeLog({ ...claude, response: { ...claude.response, choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [toolCall] } }] } });
    expect(tools.body.providerResponse).toMatchObject({ json: { content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: '{"q":"x"}' }], stop_reason: 'tool_calls' } });
  });

  it('logs a model Helicone does not know as gpt-3.5-turbo, as LiteLLM does; keeps gemini and Vertex AI models with their URLs', () => {
    const log = (model: string, custom_llm_provider = 'openai') => heliconeLog({ ...payload, model, custom_llm_provider }).body.providerRequest as Record<string, any>;
    expect(log('llama-3-8b')).toMatchObject({ url: 'https://api.openai.com/v1', json: { model: 'gpt-3.5-turbo' } });
    expect(log('command-r-plus').json.model).toBe('command-r-plus');
    expect(log('gemini-2.0-flash', 'gemini')).toMatchObject({ url: 'https://generativelanguage.googleapis.com/v1beta', json: { model: 'gemini-2.0-flash' } });
    expect(log('gemini-2.0-flash', 'vertex_ai')).toMatchObject({ url: 'https://aiplatform.googleapis.com/v1', json: { model: 'gemini-2.0-flash' } });
    expect(log('zai-org/glm-4.7-maas', 'vertex_ai')).toMatchObject({ url: 'https://aiplatform.googleapis.com/v1', json: { model: 'zai-org/glm-4.7-maas' } });
  });

  it('sends a redacted call as it is (message logging off), and no truncation marker of a cut client metadata', () => {
    const redacted = heliconeLog({
      ...payload, model: 'claude-3-opus', messages: [{ role: 'user', content: 'redacted-by-litellm' }],
      response: { ...payload.response, choices: [{ index: 0, message: { role: 'assistant', content: 'redacted-by-litellm' } }] },
      metadata: { requester_metadata: { truncated: true, original_chars: 40000, head: '{"Helicone-User-Id":"u', 'Helicone-User-Id': 'u-1' } },
    });
    expect(redacted.body.providerRequest).toMatchObject({ json: { messages: [{ role: 'user', content: 'redacted-by-litellm' }] }, meta: { 'Helicone-User-Id': 'u-1' } });
    expect(Object.keys((redacted.body.providerRequest as any).meta)).toEqual(['Helicone-User-Id']);
    expect(redacted.body.providerResponse).toMatchObject({ json: { content: [{ type: 'text', text: 'redacted-by-litellm' }] } });
    expect(JSON.stringify(redacted)).not.toContain('hello');
  });

  it('is made of the gateway\'s payload for helicone: redacted with callback_settings.helicone.message_logging false, none for a failure', () => {
    const config = { litellm_settings: { callbacks: ['helicone'] }, general_settings: {}, callback_settings: { helicone: { message_logging: false } } } as unknown as TollgateConfig;
    const call: StandardCall = {
      record: {
        request_id: 'call-q', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.002, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
        startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.250Z', completionStartTime: null, model: 'claude-3-5-haiku', model_id: 'd',
        model_group: 'claude', custom_llm_provider: 'anthropic', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
      },
      endpoint: 'chat', stream: false, headers: { get: () => null, forEach: () => undefined },
      body: { model: 'claude', messages: [{ role: 'user', content: 'the prompt text' }], metadata: { note: 'a client note' } },
      outcome: { responseText: 'the answer text' },
    };
    expect(standardLoggersOn(config, true).map((l) => l.name)).toEqual([]);
    const [queued] = loggerPayloads(config, call, standardLoggersOn(config, false));
    const log = heliconeLog(JSON.parse(queued!.fitted!.json));
    expect(log.path).toBe('/anthropic/v1/log');
    expect(log.body.providerRequest).toMatchObject({ json: { model: 'claude-3-5-haiku', messages: [{ role: 'user', content: 'redacted-by-litellm' }] } });
    expect(log.body.providerResponse).toMatchObject({ json: { id: 'call-q', content: [{ type: 'text', text: 'redacted-by-litellm' }], usage: { input_tokens: 10, output_tokens: 5 } } });
    expect(log.body.timing).toEqual({ startTime: { seconds: 1795773600, milliseconds: 0 }, endTime: { seconds: 1795773602, milliseconds: 250 } });
    for (const text of ['the prompt text', 'the answer text', 'a client note']) expect(JSON.stringify(log)).not.toContain(text);
  });

  it('is not set up without HELICONE_API_KEY, nor with a HELICONE_API_BASE that is not an http(s) URL', () => {
    expect(heliconePoster.target({})).toEqual({ error: 'HELICONE_API_KEY is not set for the admin Worker' });
    expect(heliconePoster.target({ HELICONE_API_KEY: 'k-123456', HELICONE_API_BASE: 'ftp://x' })).toEqual({ error: 'HELICONE_API_BASE is not an http(s) URL' });
    expect(heliconePoster.target({ HELICONE_API_KEY: 'k-123456' })).toMatchObject({ where: 'https://api.hconeai.com' });
  });
});

// The poster against a fake Helicone on loopback, through the dispatcher: one request a call, failures retried
// or dropped as the answer says, the key never in a reason.
describe('the helicone poster', () => {
  const API_KEY = 'helicone-unit-key-0123456789';
  let helicone: FakeHelicone;
  let env: Record<string, string>;
  beforeAll(async () => {
    helicone = await startFakeHelicone({ apiKey: API_KEY });
    env = { HELICONE_API_KEY: API_KEY, HELICONE_API_BASE: `${helicone.url}/` };
  });
  afterAll(async () => {
    await helicone?.close();
  });

  const call = (id: string, extra: Record<string, unknown> = {}) => ({ ...payload, id, response: { ...payload.response, id }, ...extra });
  const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('helicone', origin, payloads);
  const deliver = (segments: LoggerSegment[], over: Record<string, string> = {}) => deliverSegments(segments, { ...env, ...over });
  const logsOf = (id: string) => helicone.logs.filter((l) => l.body.providerResponse.json.id === id);

  it('posts each call of a message as its own log with the Bearer key, and no failed call', async () => {
    const { reports, retried } = await deliver([segment(0, [call('a-1'), call('a-2', { model: 'claude-3-haiku' }), call('a-3', { status: 'failure', response: null })])]);
    expect(reports).toEqual([]);
    expect(retried).toEqual([]);
    expect(logsOf('a-1').map((l) => l.path)).toEqual(['/oai/v1/log']);
    expect(logsOf('a-2').map((l) => l.path)).toEqual(['/anthropic/v1/log']);
    expect(logsOf('a-1')[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(helicone.logs.filter((l) => /a-3/.test(JSON.stringify(l.body)))).toEqual([]);
    expect(JSON.stringify(helicone.logs.map((l) => l.body))).not.toContain(API_KEY);
  });

  it('retries what Helicone answers 503 or 429, and a key it refuses (401), never quoting the key it echoes', async () => {
    for (const status of [503, 429]) {
      helicone.failNext(status, 1, { echo: true });
      const { reports, retried } = await deliver([segment(5, [call(`retry-${status}`)])]);
      expect(retried).toEqual([5]);
      expect(reports.join('')).toContain(`HTTP ${status}`);
      expect(reports.join('')).not.toContain(API_KEY);
    }
    const wrong = await deliver([segment(6, [call('wrong-key')])], { HELICONE_API_KEY: 'not-the-key-000' });
    expect(wrong.retried).toEqual([6]);
    expect(wrong.reports.join('')).toContain('HTTP 401');
    expect(logsOf('wrong-key')).toEqual([]);
  });

  it('retries a call Helicone answers 200 {"error": ...} (a refused key, a rate limit): it was not logged', async () => {
    for (const error of ['Rate limited', `Auth failed! Invalid key ${API_KEY}`]) {
      helicone.errorNext(error);
      const id = `erred-${error.slice(0, 4)}`;
      const { reports, retried } = await deliver([segment(12, [call(id)])]);
      expect(retried).toEqual([12]);
      expect(reports).toEqual([expect.stringContaining(`HTTP 200 with an error, not logged: ${error.replace(API_KEY, '[redacted]')}`)]);
      expect(reports.join('')).not.toContain(API_KEY);
      expect(logsOf(id)).toEqual([]);
      // Sent again once Helicone takes it.
      expect(await deliver([segment(12, [call(id)])])).toEqual({ reports: [], retried: [] });
      expect(logsOf(id)).toHaveLength(1);
    }
    expect(helicone.erred).toHaveLength(2);
  });

  it('delivers a call whose metadata names headers Helicone cannot make (it would answer 500 forever), without them', async () => {
    const meta = { 'Helicone-User-Id': 'user-bad', 'Helicone-Property-Two Words': 'x', 'Helicone-Property-Emoji': '😀', 'Helicone-Auth': 'Bearer sk-forged', 'helicone-auth': 'Bearer sk-forged' };
    const { reports, retried } = await deliver([segment(7, [call('bad-meta', { metadata: { requester_metadata: meta } })])]);
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    expect(logsOf('bad-meta').map((l) => l.body.providerRequest.meta)).toEqual([{ 'Helicone-User-Id': 'user-bad' }]);
  });

  it('drops only the call Helicone refuses with 400; the next message\'s call arrives', async () => {
    helicone.failNext(400, 1, { match: 'refused-400' });
    const { reports, retried } = await deliver([segment(8, [call('refused-400')]), segment(9, [call('after-400')])]);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('HTTP 400')]);
    expect(logsOf('refused-400')).toEqual([]);
    expect(logsOf('after-400')).toHaveLength(1);
    expect(helicone.malformed).toEqual([]);
  });
});
