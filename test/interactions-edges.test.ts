// Google's Interactions API at its edges (worker/interactions/): interactions made through a wildcard group
// (`gemini/*`, the environment's GEMINI_API_KEY) read back, `?key=` on every route, the gateway's own fields
// kept from Google, credentials kept out of errors, and answers too large to read; against a fake Google AI
// Studio on loopback speaking the Interactions wire format.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { googleErrorBody, interaction } from './fakes/google-interactions.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { callId, ENV_GEMINI_KEY, GEMINI_KEY, useInteractionsStack } from './support/interactions-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const s = useInteractionsStack();
const call = (key: string, path: string, init?: { method?: string; body?: unknown }) => s.call(key, path, init);
const usage = { total_input_tokens: 4, total_output_tokens: 2 };

describe('an interaction made through a wildcard group', () => {
  it('is read, cancelled and deleted at the wildcard\'s deployment, with the environment\'s key', async () => {
    const key = await seedKey(s.stack.db.url, { models: ['gemini/*'] });
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdWild1', 'Hi.', usage) });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini/gemini-2.5-flash', input: 'Hi' } });
    expect(res.status).toBe(200);
    const created = await res.json() as { id: string };
    expect(s.google.requests[0]!.body).toMatchObject({ model: 'gemini-2.5-flash' });
    expect(s.google.requests[0]!.headers['x-goog-api-key']).toBe(ENV_GEMINI_KEY);

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdWild1', 'Hi.', usage) });
    const read = await call(key, `/v1beta/interactions/${created.id}`);
    expect(read.status).toBe(200);
    expect((await read.json() as { id: string }).id).toBe(created.id);
    expect(read.headers.get('x-litellm-model-id')).toBe('gemini-wildcard:gemini-2.5-flash');
    expect(s.google.requests[1]).toMatchObject({ method: 'GET', path: '/v1beta/interactions/v1_ChdWild1' });
    expect(s.google.requests[1]!.headers['x-goog-api-key']).toBe(ENV_GEMINI_KEY);

    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdWild1', '', usage), status: 'cancelled' } });
    const cancelled = await call(key, `/v1beta/interactions/${created.id}:cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: created.id, status: 'cancelled' });
    s.google.enqueue({ kind: 'json', body: {} });
    expect((await call(key, `/interactions/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(s.google.requests.slice(2).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1beta/interactions/v1_ChdWild1/cancel', 'DELETE /v1beta/interactions/v1_ChdWild1']);

    // The master key reads it too.
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdWild1', 'Hi.', usage) });
    const master = await call(TEST_MASTER_KEY, `/v1beta/interactions/${created.id}`);
    expect(master.status).toBe(200);
    expect(master.headers.get('x-litellm-model-group')).toBe('gemini/*');
  });
});

describe('?key= as Google\'s API takes it', () => {
  it('authenticates a read, a cancel and a deletion as it does a create; the key goes no further, a wrong one is refused', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdQuery2', 'Hi.', usage) });
    const created = await (await call('', `/v1beta/interactions?key=${key}`, { body: { model: 'gemini-flash', input: 'Hi' } })).json() as { id: string };
    expect(created.id).toMatch(/^intr_/);

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdQuery2', 'Hi.', usage) });
    const read = await call('', `/v1beta/interactions/${created.id}?key=${key}`);
    expect(read.status).toBe(200);
    expect((await read.json() as { id: string }).id).toBe(created.id);
    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdQuery2', '', usage), status: 'cancelled' } });
    expect((await call('', `/v1beta/interactions/${created.id}/cancel?key=${key}`, { method: 'POST' })).status).toBe(200);
    s.google.enqueue({ kind: 'json', body: {} });
    expect((await call('', `/v1beta/interactions/${created.id}?key=${key}`, { method: 'DELETE' })).status).toBe(200);
    for (const sent of s.google.requests.slice(1)) {
      expect(sent.query).not.toHaveProperty('key');
      expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    }

    const wrong = await call('', `/v1beta/interactions/${created.id}?key=sk-not-a-key`);
    expect(wrong.status).toBe(401);
    expect((await wrong.json() as { error: Record<string, unknown> }).error).toMatchObject({ code: '401' });
    expect(s.google.requests).toHaveLength(4);
  });
});

describe('what Google is sent and what the client sees', () => {
  it('keeps LiteLLM\'s own fields (litellm_metadata, tags, metadata.tags) from Google, the call still tagged by them', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdTags3', 'Hi.', usage) });
    const res = await call(key, '/v1beta/interactions', {
      body: { model: 'gemini-flash', input: 'Hi', tags: ['top-tag'], metadata: { tags: ['meta-tag'] }, litellm_metadata: { spend_logs_metadata: { team: 'x' } } },
    });
    expect(res.status).toBe(200);
    expect(s.google.requests[0]!.body).toEqual({ model: 'gemini-2.5-flash', input: 'Hi' });
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(JSON.stringify(row.request_tags)).toContain('top-tag');
    expect(JSON.stringify(row.request_tags)).toContain('meta-tag');
  });

  it('scrubs the environment\'s Gemini key from Google\'s error, on a create and on a read', async () => {
    const key = await seedKey(s.stack.db.url);
    const echo = googleErrorBody(403, 'PERMISSION_DENIED', `Permission denied for ${ENV_GEMINI_KEY} on this project.`);
    s.google.enqueue({ kind: 'error', status: 403, body: echo });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini/gemini-2.5-flash', input: 'Hi' } });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toMatch(/Permission denied/);
    expect(text).not.toContain(ENV_GEMINI_KEY);
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(JSON.stringify(row)).not.toContain(ENV_GEMINI_KEY);

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdScrub4', 'Hi.', usage) });
    const created = await (await call(key, '/v1beta/interactions', { body: { model: 'gemini/gemini-2.5-flash', input: 'Hi' } })).json() as { id: string };
    s.google.enqueue({ kind: 'error', status: 403, body: echo });
    const read = await call(key, `/v1beta/interactions/${created.id}`);
    expect(read.status).toBe(403);
    expect(await read.text()).not.toContain(ENV_GEMINI_KEY);
  });

  it('answers 502 for a JSON answer past 8 MB, logged as the call\'s failure; an error\'s text is read only so far', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdHuge5', 'x'.repeat(9 * 1024 * 1024), usage) });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(res.status).toBe(502);
    expect((await res.json() as { error: Record<string, unknown> }).error).toMatchObject({ code: '502', message: expect.stringMatching(/8 MB/) });
    const row = await eventually(() => spendLogRow(s.stack.db.url, callId(res)));
    expect(row).toMatchObject({ call_type: 'acreate_interaction', status: 'failure' });

    // An answer of unknown length (chunked) is bounded as it is read, and so is an error's.
    s.google.enqueue({ kind: 'handler', handle: (_req, out: ServerResponse) => chunked(out, 200, '{"id":"v1_ChdHuge6","object":"interaction","steps":"', 9 * 1024 * 1024, '"}') });
    const streamed = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(streamed.status).toBe(502);
    s.google.enqueue({ kind: 'handler', handle: (_req, out: ServerResponse) => chunked(out, 429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"', 200 * 1024, '"}}') });
    const failed = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } });
    expect(failed.status).toBe(429);
    const error = (await failed.json() as { error: { message: string; code: string } }).error;
    expect(error.code).toBe('429');
    expect(error.message).not.toMatch(/x{100}/);
  });
});

/** A JSON answer sent in chunks, with no length: `head`, `size` bytes of `x`, `tail`. */
function chunked(out: ServerResponse, status: number, head: string, size: number, tail: string): void {
  out.writeHead(status, { 'content-type': 'application/json' });
  out.write(head);
  const piece = 'x'.repeat(64 * 1024);
  for (let sent = 0; sent < size; sent += piece.length) out.write(piece);
  out.end(tail);
}
