// Creating interactions through Google's Interactions API (worker/interactions/): LiteLLM's /v1beta/interactions
// for Gemini model groups, against a fake Google AI Studio on loopback speaking the Interactions wire format.
import { describe, expect, it } from 'vitest';
import { googleErrorBody, interaction, interactionEvents } from './fakes/google-interactions.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { callId, GEMINI_KEY, useInteractionsStack } from './support/interactions-stack.ts';

const s = useInteractionsStack();
const call = (key: string, path: string, init?: { method?: string; body?: unknown }) => s.call(key, path, init);

/** The `data:` JSON of an SSE body's events. */
const eventsOf = (text: string) => text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as Record<string, any>);

describe('creating an interaction', () => {
  it('sends it to the group\'s Gemini deployment with its key, gives back a signed id, and bills the answer\'s usage as acreate_interaction', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdGoogleOwn1', 'Paris.', { total_input_tokens: 120, total_output_tokens: 30, total_thought_tokens: 10 }) });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Capital of France?', system_instruction: 'Be terse.', store: true } });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, any>;
    const sent = s.google.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1beta/interactions');
    expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(sent.body).toEqual({ model: 'gemini-2.5-flash', input: 'Capital of France?', system_instruction: 'Be terse.', store: true });
    expect(sent.rawBody + JSON.stringify(sent.headers)).not.toContain(key);
    expect(body.id).toMatch(/^intr_/);
    expect(JSON.stringify(body)).not.toContain('v1_ChdGoogleOwn1');
    expect(body.steps[0].content[0].text).toBe('Paris.');
    expect(body.usage.total_input_tokens).toBe(120);
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeGreaterThan(0);
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(row).toMatchObject({ call_type: 'acreate_interaction', api_key: sha256(key), model_group: 'gemini-flash', prompt_tokens: 120, completion_tokens: 40, custom_llm_provider: 'gemini' });
    expect(Number(row.spend)).toBeGreaterThan(0);
    expect(JSON.stringify(row)).not.toContain(GEMINI_KEY);
  });

  it('streams the events with their ids rewritten, billed by the usage at interaction.completed', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'sse', events: interactionEvents('v1_ChdStreamed2', ['Par', 'is ', 'is the capital.'], { total_input_tokens: 50, total_output_tokens: 7 }) });
    const res = await call(key, '/interactions', { body: { model: 'gemini-flash', input: 'Capital?', stream: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(s.google.requests[0]!.body).toMatchObject({ model: 'gemini-2.5-flash', stream: true });
    expect(text).not.toContain('v1_ChdStreamed2');
    const events = eventsOf(text);
    expect(events.map((e) => e.event_type)).toEqual(['interaction.created', 'interaction.status_update', 'step.start', 'step.delta', 'step.delta', 'step.delta', 'step.stop', 'interaction.completed']);
    const id = events[0]!.interaction.id as string;
    expect(id).toMatch(/^intr_/);
    expect(events[1]!.interaction_id).toBe(id);
    expect(events.at(-1)!.interaction.id).toBe(id);
    expect(events.filter((e) => e.event_type === 'step.delta').map((e) => e.delta.text).join('')).toBe('Paris is the capital.');
    expect(text).toContain('event: done\ndata: [DONE]');
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(row).toMatchObject({ call_type: 'acreate_interaction', prompt_tokens: 50, completion_tokens: 7 });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('bills a stream Google drops before interaction.completed by the text that passed', async () => {
    const key = await seedKey(s.stack.db.url);
    const long = 'x'.repeat(400);
    s.google.enqueue({ kind: 'sse', events: interactionEvents('v1_ChdDropped3', [long, long], { total_input_tokens: 5, total_output_tokens: 5 }), dropAfter: 5 });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.', stream: true } });
    expect(res.status).toBe(200);
    await res.text().catch(() => '');
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(row.call_type).toBe('acreate_interaction');
    // Two deltas of 400 characters passed: about 200 tokens at four characters a token.
    expect(Number(row.completion_tokens)).toBeGreaterThanOrEqual(200);
    expect(row.metadata).toMatchObject({ usage_estimated: true });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('passes Google\'s 429 on in the error envelope with its retry-after, and logs the failure', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'error', status: 429, body: googleErrorBody(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'), headers: { 'retry-after': '17' } });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('17');
    const body = await res.json() as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: '429', param: null });
    expect(body.error.message).toMatch(/exhausted/i);
    expect(typeof body.error.type).toBe('string');
    expect(JSON.stringify(body)).not.toContain(GEMINI_KEY);
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(row).toMatchObject({ call_type: 'acreate_interaction', status: 'failure' });
    expect(Number(row.spend)).toBe(0);
  });

  it('refuses bad input with a 4xx in the error envelope and sends nothing', async () => {
    const key = await seedKey(s.stack.db.url);
    const cases: [unknown, number, string | null][] = [
      [{ model: 'gemini-flash' }, 400, 'input'],
      [{ model: 'gemini-flash', input: 'hi', stream: 'yes' }, 400, 'stream'],
      [{ input: 'hi' }, 400, 'model'],
      [{ agent: 'deep-research-pro-preview-12-2025', input: 'Research tides.' }, 400, 'agent'],
      [{ model: 'gemini-flash', input: 'hi', background: true }, 400, 'background'],
      [{ model: 'gpt-4o', input: 'hi' }, 400, 'model'],
      [['not', 'an', 'object'], 400, null],
    ];
    for (const [body, status, param] of cases) {
      const res = await call(key, '/v1beta/interactions', { body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      const error = (await res.json() as { error: Record<string, unknown> }).error;
      expect(error, JSON.stringify(body)).toMatchObject({ param, code: String(status) });
      expect(typeof error.message).toBe('string');
    }
    const noKey = await fetch(`${s.stack.url}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gemini-flash', input: 'hi' }) });
    expect(noKey.status).toBe(401);
    const other = await seedKey(s.stack.db.url, { models: ['gpt-4o'] });
    const denied = await call(other, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } });
    expect(denied.status).toBe(401);
    expect(s.google.requests).toHaveLength(0);
  });
});
