// Google's Interactions API, second review's mends (worker/interactions/): an answer too large to pass on still
// billed by its usage, provider pass-through refusing agent and background runs for keys as the dedicated route
// does, objects made through a key's alias read back, and only the configured client headers sent to Google;
// against a fake Google AI Studio (and an OpenAI Responses API) on loopback speaking the real wire formats.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { interaction } from './fakes/google-interactions.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { callId, useInteractionsStack } from './support/interactions-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const s = useInteractionsStack();
const call = (key: string, path: string, init?: { method?: string; body?: unknown }) => s.call(key, path, init);
const rowOf = (res: Response) => eventually(() => spendLogRow(s.stack.db.url, callId(res)));

describe('an interaction answer past 8 MB', () => {
  it('is billed by the usage at its end (Google charged for it), with or without a declared length; the client gets the 502', async () => {
    const key = await seedKey(s.stack.db.url);
    const usage = { total_input_tokens: 1000, total_output_tokens: 200_000 };
    // The same usage on an answer of ordinary size: what the call should cost.
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdSmall1', 'Hi.', usage) });
    const small = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(small.status).toBe(200);
    const expected = Number((await rowOf(small)).spend);
    expect(expected).toBeGreaterThan(0.4);

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdHuge1', 'x'.repeat(9 * 1024 * 1024), usage) });
    const huge = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(huge.status).toBe(502);
    expect((await huge.json() as { error: Record<string, unknown> }).error).toMatchObject({ code: '502', message: expect.stringMatching(/8 MB/) });
    const row = await rowOf(huge);
    expect(row).toMatchObject({ call_type: 'acreate_interaction', status: 'failure', prompt_tokens: 1000, completion_tokens: 200_000 });
    expect(Number(row.spend)).toBeCloseTo(expected, 8);
    expect(JSON.stringify(row.metadata)).not.toContain('usage_estimated');

    // Chunked, no length: the usage is read as the body streams through, even after a `usage` nested in a step.
    const tail = `"],"steps":[{"type":"model_output","usage":{"total_input_tokens":1}}],"usage":${JSON.stringify(usage)},"status":"completed"}`;
    s.google.enqueue({ kind: 'handler', handle: (_req, out: ServerResponse) => chunked(out, '{"id":"v1_ChdHuge2","object":"interaction","notes":["', 9 * 1024 * 1024, tail) });
    const streamed = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(streamed.status).toBe(502);
    const streamedRow = await rowOf(streamed);
    expect(streamedRow).toMatchObject({ prompt_tokens: 1000, completion_tokens: 200_000 });
    expect(Number(streamedRow.spend)).toBeCloseTo(expected, 8);
  });

  it('with no usage to read, is billed at its reservation\'s estimate, marked usage_estimated', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'handler', handle: (_req, out: ServerResponse) => chunked(out, '{"id":"v1_ChdHuge3","object":"interaction","steps":"', 9 * 1024 * 1024, '"}') });
    const res = await call(key, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Write a lot.' } });
    expect(res.status).toBe(502);
    const row = await rowOf(res);
    expect(row).toMatchObject({ status: 'failure', completion_tokens: 512 });
    expect(Number(row.spend)).toBeGreaterThan(0);
    expect(row.metadata).toMatchObject({ usage_estimated: true });
  });
});

describe('provider pass-through .../interactions', () => {
  const post = (key: string, body: unknown) => fetch(`${s.stack.url}/gemini/v1beta/interactions`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, body: JSON.stringify(body),
  });

  it('refuses a key\'s background or agent run with the dedicated route\'s 400, sending Google nothing and billing nothing', async () => {
    const key = await seedKey(s.stack.db.url);
    for (const [body, param] of [[{ model: 'gemini-flash', input: 'Hi', background: true }, 'background'], [{ agent: 'deep-research-pro-preview-12-2025', input: 'Research' }, 'agent']] as const) {
      const res = await post(key, body);
      expect(res.status).toBe(400);
      const error = (await res.json() as { error: Record<string, unknown> }).error;
      expect(error).toMatchObject({ type: 'bad_request_error', param, code: '400' });
      // The same words as the dedicated route's.
      const dedicated = await call(key, '/v1beta/interactions', { body });
      expect(dedicated.status).toBe(400);
      expect((await dedicated.json() as { error: { message: string } }).error.message).toBe(error.message);
    }
    expect(s.google.requests).toHaveLength(0);
    const spent = await query(s.stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
    expect(Number(spent[0]!.spend)).toBe(0);
  });

  it('lets the master key start a background run', async () => {
    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdBg1', '', { total_input_tokens: 1, total_output_tokens: 0 }), status: 'in_progress' } });
    const res = await post(TEST_MASTER_KEY, { model: 'gemini-flash', input: 'Hi', background: true });
    expect(res.status).toBe(200);
    expect(s.google.requests[0]!.body).toMatchObject({ background: true, model: 'gemini-2.5-flash' });
  });
});

describe('objects made through a key\'s alias', () => {
  it('an interaction and a stored response are read, cancelled and deleted by the key that may call only the alias', async () => {
    const key = await seedKey(s.stack.db.url, { models: ['my-gem', 'my-4o'] });
    await query(s.stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET aliases = $1 WHERE token = $2', [JSON.stringify({ 'my-gem': 'gemini-flash', 'my-4o': 'gpt-4o' }), sha256(key)]);
    const usage = { total_input_tokens: 3, total_output_tokens: 1 };
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdAlias1', 'Hi.', usage) });
    const made = await call(key, '/v1beta/interactions', { body: { model: 'my-gem', input: 'Hi' } });
    expect(made.status).toBe(200);
    const { id } = await made.json() as { id: string };
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdAlias1', 'Hi.', usage) });
    expect((await call(key, `/v1beta/interactions/${id}`)).status).toBe(200);
    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdAlias1', '', usage), status: 'cancelled' } });
    expect((await call(key, `/v1beta/interactions/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    s.google.enqueue({ kind: 'json', body: {} });
    expect((await call(key, `/v1beta/interactions/${id}`, { method: 'DELETE' })).status).toBe(200);

    s.google.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'Hi.', responsesUsage(3, 1), { response: 'resp_upstream_alias', message: 'msg_alias' }) });
    const responded = await fetch(`${s.stack.url}/v1/responses`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'my-4o', input: 'Hi' }),
    });
    expect(responded.status).toBe(200);
    const response = await responded.json() as { id: string };
    s.google.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'Hi.', responsesUsage(3, 1), { response: 'resp_upstream_alias', message: 'msg_alias' }) });
    const read = await fetch(`${s.stack.url}/v1/responses/${response.id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(read.status).toBe(200);
    expect((await read.json() as { id: string }).id).toBe(response.id);

  });
});

describe('what Google is sent of the client\'s headers', () => {
  const send = (headers: Record<string, string>) => fetch(`${s.stack.url}/v1beta/interactions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'gemini-flash', input: 'Hi' }),
  });

  it('sends no user-agent, x-tenant or cookie by default, only the body\'s type and what the client accepts', async () => {
    const key = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdHdr1', 'Hi.', { total_input_tokens: 1, total_output_tokens: 1 }) });
    const res = await send({ 'x-goog-api-key': key, 'user-agent': 'tenant-app/1.0', 'x-tenant-id': 'acme', cookie: 'session=abc', accept: 'application/json' });
    expect(res.status).toBe(200);
    const sent = s.google.requests[0]!.headers;
    expect(sent['user-agent'] ?? '').not.toContain('tenant-app');
    expect(sent).not.toHaveProperty('x-tenant-id');
    expect(sent).not.toHaveProperty('cookie');
    expect(sent['content-type']).toBe('application/json');
    expect(sent.accept).toBe('application/json');
    expect(sent['x-goog-api-key']).not.toBe(key);
  });
});

/** A JSON answer sent in chunks, with no length: `head`, `size` bytes of `x`, `tail`. */
function chunked(out: ServerResponse, head: string, size: number, tail: string): void {
  out.writeHead(200, { 'content-type': 'application/json' });
  out.write(head);
  const piece = 'x'.repeat(64 * 1024);
  for (let sent = 0; sent < size; sent += piece.length) out.write(piece);
  out.end(tail);
}
