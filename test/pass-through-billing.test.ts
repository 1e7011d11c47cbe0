// What a pass-through call is billed and who may make it: estimates, stored reads, credential minting,
// lent credentials (/openai_passthrough, /mistral) and Google AI Studio's own API (/gemini).
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { interactionEvents } from './fakes/google-interactions.ts';
import { callId, usePassThroughStack } from './support/pass-through-stack.ts';

const p = usePassThroughStack();

describe('/openai_passthrough and /mistral: what is billed, and which key may call what', () => {
  it('estimates a stream that reports no usage (no include_usage), and does not bill a stored response read back', async () => {
    const key = await seedKey(p.stack.db.url);
    const client = new OpenAI({ baseURL: `${p.stack.url}/openai_passthrough`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three four' }] }).withResponse();
    await response.text();
    const streamed = await eventually(() => spendLogRow(p.stack.db.url, callId(response.headers)));
    expect(streamed).toMatchObject({ status: 'success' });
    expect(Number(streamed.completion_tokens)).toBeGreaterThan(0);
    expect(Number(streamed.spend)).toBeGreaterThan(0);
    expect(streamed.metadata).toMatchObject({ usage_estimated: true });
    p.openaiFake.enqueue({ kind: 'json', body: { id: 'resp_1', object: 'response', model: 'gpt-4o', usage: { input_tokens: 1000, output_tokens: 1000 } } });
    const read = await fetch(`${p.stack.url}/openai_passthrough/v1/responses/resp_1`, { headers: { authorization: `Bearer ${key}` } });
    expect(read.status).toBe(200);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(read.headers)));
    expect(row).toMatchObject({ spend: 0, prompt_tokens: 0, completion_tokens: 0 });
  });

  it('decides what a call is on the path the provider reads (a trailing slash changes nothing), and keeps credential minting to the master key', async () => {
    const key = await seedKey(p.stack.db.url);
    const res = await fetch(`${p.stack.url}/openai_passthrough/v1/chat/completions/`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(res.headers)));
    expect(Number(row.spend)).toBeGreaterThan(0);
    p.openaiFake.reset();
    const minted = await fetch(`${p.stack.url}/openai_passthrough/v1/realtime/client_secrets`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ session: { type: 'realtime', model: 'gpt-realtime' } }),
    });
    expect(minted.status).toBe(403);
    expect(p.openaiFake.requests).toHaveLength(0);
  });

  it('lends a use_in_pass_through deployment\'s credential for other models, but not its key\'s permission', async () => {
    const key = await seedKey(p.stack.db.url, { models: ['mistral-small'] });
    const call = (k: string, model: string) => fetch(`${p.stack.url}/mistral/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
    });
    const refused = await call(key, 'mistral-large-latest');
    expect(refused.status).toBe(401);
    expect(p.target.requests).toHaveLength(0);
    p.target.enqueue({ kind: 'json', body: { model: 'mistral-small-latest', choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } } });
    expect((await call(key, 'mistral-small-latest')).status).toBe(200);
    // A key held to no models calls any model with the lent credential.
    p.target.enqueue({ kind: 'json', body: { model: 'mistral-large-latest', choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } } });
    const open = await call(await seedKey(p.stack.db.url), 'mistral-large-latest');
    expect(open.status).toBe(200);
    expect(p.target.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/v1/chat/completions', 'Bearer ms-upstream-0005'], ['/v1/chat/completions', 'Bearer ms-upstream-0005'],
    ]);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(open.headers)));
    expect(row).toMatchObject({ model: 'mistral-large-latest', model_group: 'mistral-large-latest', prompt_tokens: 4, completion_tokens: 2 });
    // A model name the client chose is not a metric label (clients could mint series without end).
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${p.stack.url}/metrics`)).text();
      return /api_provider="mistral"[^\n]*model="other"|model="other"[^\n]*api_provider="mistral"/.test(text) ? text : undefined;
    });
    expect(metrics).not.toContain('mistral-large-latest');
  });
});

describe('/gemini: Google AI Studio\'s own API', () => {
  it('takes the key from ?key= (never sent on), sends the deployment\'s in x-goog-api-key, and bills usageMetadata', async () => {
    const key = await seedKey(p.stack.db.url);
    p.target.enqueue({ kind: 'json', body: { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 }, modelVersion: 'gemini-2.0-flash' } });
    const res = await fetch(`${p.stack.url}/gemini/v1beta/models/gemini-flash:generateContent?key=${key}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }),
    });
    expect(res.status).toBe(200);
    const sent = p.target.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(sent.query).toEqual({});
    expect(sent.headers['x-goog-api-key']).toBe('gm-upstream-0004');
    expect(JSON.stringify(sent)).not.toContain(key);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(res.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', api_key: sha256(key), model_group: 'gemini-flash', prompt_tokens: 5, completion_tokens: 3, custom_llm_provider: 'gemini' });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('bills an Interactions create (JSON and streamed) by its usage, the group named in its body', async () => {
    const key = await seedKey(p.stack.db.url);
    const usage = { total_input_tokens: 11, total_output_tokens: 4, total_thought_tokens: 2 };
    p.target.enqueue({ kind: 'json', body: { id: 'v1_raw', model: 'gemini-2.0-flash', status: 'completed', outputs: [{ type: 'text', text: 'hi' }], usage } });
    const post = (path: string, body?: unknown) => fetch(`${p.stack.url}/gemini/v1beta/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': key }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // The group's name, in the body as the Interactions API takes it, becomes its deployment's model.
    const made = await post('interactions', { model: 'gemini-flash', input: 'hello' });
    expect(made.status).toBe(200);
    expect(p.target.requests[0]).toMatchObject({ path: '/v1beta/interactions', body: { model: 'gemini-2.0-flash', input: 'hello' } });
    expect(p.target.requests[0]!.headers['x-goog-api-key']).toBe('gm-upstream-0004');
    expect(await eventually(() => spendLogRow(p.stack.db.url, callId(made.headers)))).toMatchObject({ call_type: 'pass_through_endpoint', model_group: 'gemini-flash', prompt_tokens: 11, completion_tokens: 6 });

    p.target.enqueue({ kind: 'sse', events: interactionEvents('v1_raw2', ['hi', ' there'], { total_input_tokens: 7, total_output_tokens: 3 }) });
    const streamed = await post('interactions?alt=sse', { model: 'gemini-flash', input: 'hello', stream: true });
    expect(streamed.status).toBe(200);
    await streamed.text();
    expect(await eventually(() => spendLogRow(p.stack.db.url, callId(streamed.headers)))).toMatchObject({ prompt_tokens: 7, completion_tokens: 3 });

  });
});
