/**
 * `general_settings.disable_error_logs` (LiteLLM's "don't write LLM exceptions to the DB"): a failed call
 * that cost nothing, refused by the gateway or failed by its provider, gets no LiteLLM_SpendLogs row, as
 * LiteLLM's failure hook then writes none; served calls still get theirs, and so does a failed call that
 * cost money (a stream broken after the provider reported its usage): spend is never dropped. Without the
 * setting both failures get their rows.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChatChunks } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const config = (upstream: string, disabled: boolean) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:
  num_retries: 0
general_settings:
  disable_error_logs: ${disabled}
`;

function useStack(disabled: boolean) {
  const s = {} as { upstream: FakeUpstream; stack: TestStack };
  beforeAll(async () => {
    s.upstream = await startFakeUpstream();
    s.stack = await startTestStack({ configYaml: config(s.upstream.url, disabled), env: { FAKE_OPENAI_KEY: 'sk-upstream-openai-0001' } });
  });
  afterAll(async () => {
    await s.stack?.stop();
    await s.upstream?.close();
  });
  return s;
}

/** A refused call (an unknown model), a provider's failure, then a served call: the rows of the key, once the served call's is written. */
async function failThenServe(stack: TestStack) {
  const key = await seedKey(stack.db.url, {});
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'x' }];
  await expect(client.chat.completions.create({ model: 'no-such-model', messages })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  await expect(client.chat.completions.create({ model: 'unreachable', messages })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
  await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
  // Records of one isolate ship in order: the failures' rows, if any, are written by now; a moment for another isolate's.
  await new Promise((r) => setTimeout(r, 1000));
  const rows = await query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"', [sha256(key)]);
  return rows.map((r) => [r.model_group, r.status, Number(r.spend) > 0]);
}

describe('with general_settings.disable_error_logs: true', () => {
  const s = useStack(true);

  it('writes no row for a refused call or a provider failure, and still one for each served call', async () => {
    expect(await failThenServe(s.stack)).toEqual([['gpt-4o', 'success', true]]);
  });

  it('still writes the row of a failed call that cost money', async () => {
    const events = [...openaiChatChunks({ model: 'gpt-4o', pieces: ['a', 'b', 'c'], promptTokens: 12, completionTokens: 10, includeUsage: true }), '[DONE]'];
    // Dropped after every chunk, usage included, but before [DONE]: the provider billed it, the stream broke.
    s.upstream.enqueue({ kind: 'sse', events, dropAfter: events.length - 1 });
    const client = new OpenAI({ baseURL: `${s.stack.url}/v1`, apiKey: await seedKey(s.stack.db.url, {}), maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'go' }] }).withResponse();
    await (async () => {
      for await (const _ of stream) { /* drained */ }
    })().catch(() => undefined);
    const row = await eventually(() => spendLogRow(s.stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', prompt_tokens: 12, completion_tokens: 10 });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });
});

describe('without it', () => {
  const s = useStack(false);

  it('writes a failure row, with no spend, for a refused call and a provider failure', async () => {
    expect(await failThenServe(s.stack)).toEqual([['no-such-model', 'failure', false], ['unreachable', 'failure', false], ['gpt-4o', 'success', true]]);
  });
});
