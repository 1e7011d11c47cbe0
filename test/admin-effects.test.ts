import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The admin API writes Postgres, then tells the entity's limiter: the very next gateway request sees the change.
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
  - model_name: other-model
    litellm_params: {model: mock/other}
`,
  });
});
afterAll(async () => stack?.stop());

const admin = async (path: string, body: unknown) => {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return res.json() as Promise<Record<string, unknown>>;
};
const chat = (key: string, model = 'mock-gpt') => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
});
const newKey = async (body: Record<string, unknown> = {}) => (await admin('/key/generate', body)).key as string;

describe('admin changes reach the very next gateway request', () => {
  it('block, then unblock', async () => {
    const key = await newKey();
    expect((await chat(key)).status).toBe(200);
    await admin('/key/block', { key });
    const refused = await chat(key);
    expect(refused.status).toBe(403);
    await admin('/key/unblock', { key });
    expect((await chat(key)).status).toBe(200);
  });

  it('delete', async () => {
    const key = await newKey();
    expect((await chat(key)).status).toBe(200);
    await admin('/key/delete', { keys: [key] });
    const res = await chat(key);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'token_not_found_in_db' } });
  });

  it('a raised budget admits at once, a lowered one refuses at once', async () => {
    const key = await newKey({ max_budget: 0.001 });
    expect((await chat(key)).status).toBe(200); // spends 0.002: now over
    expect((await chat(key)).status).toBe(429);
    await admin('/key/update', { key, max_budget: 10 });
    expect((await chat(key)).status).toBe(200);
    await admin('/key/update', { key, max_budget: 0.001 });
    expect((await chat(key)).status).toBe(429);
  });

  it('a narrowed model list refuses at once', async () => {
    const key = await newKey();
    expect((await chat(key, 'other-model')).status).toBe(200);
    await admin('/key/update', { key, models: ['mock-gpt'] });
    const res = await chat(key, 'other-model');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'key_model_access_denied' } });
    const listed = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key }).models.list();
    expect(listed.data.map((m) => m.id)).toEqual(['mock-gpt']);
  });

  it('regenerate: the old key gets 401 at once, the new one works and keeps the spend', async () => {
    const old = await newKey({ key_alias: 'rotating' });
    const first = await chat(old);
    expect(first.status).toBe(200);
    await eventually(async () => {
      const [row] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(old)]);
      return Number(row?.spend) > 0 ? true : undefined;
    });
    const regenerated = await admin('/key/regenerate', { key: old });
    const fresh = regenerated.key as string;
    expect(fresh).not.toBe(old);
    expect((await chat(old)).status).toBe(401);
    expect((await chat(fresh)).status).toBe(200);
    const info = await (await fetch(`${stack.url}/key/info?key=${fresh}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).json() as { info: { spend: number; key_alias: string } };
    expect(info.info.key_alias).toBe('rotating');
    expect(info.info.spend).toBeGreaterThan(0);
  });

  it('regenerate with a grace period: both keys work until it ends', async () => {
    const old = await newKey();
    const regenerated = await admin('/key/regenerate', { key: old, grace_period: '1h' });
    expect((await chat(old)).status).toBe(200);
    expect((await chat(regenerated.key as string)).status).toBe(200);
  });

  it('regenerate with a grace period: the old key is refused once it ends', async () => {
    const old = await newKey();
    const regenerated = await admin('/key/regenerate', { key: old, grace_period: '2s' });
    expect((await chat(old)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await chat(old)).status).toBe(401);
    expect((await chat(regenerated.key as string)).status).toBe(200);
  });
});

describe('team changes reach its keys\' very next request', () => {
  it('block and unblock, a lowered and a raised budget, a narrowed model list', async () => {
    const team = (await admin('/team/new', { team_alias: 'effects-team' })).team_id as string;
    const key = await newKey({ team_id: team });
    expect((await chat(key)).status).toBe(200);
    await admin('/team/block', { team_id: team });
    expect((await chat(key)).status).toBe(403);
    await admin('/team/unblock', { team_id: team });
    expect((await chat(key)).status).toBe(200); // the team has now spent 0.004 through this key
    await admin('/team/update', { team_id: team, max_budget: 0.001 });
    const over = await chat(key);
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: { type: 'budget_exceeded' } });
    await admin('/team/update', { team_id: team, max_budget: 100 });
    expect((await chat(key)).status).toBe(200);
    await admin('/team/update', { team_id: team, models: ['other-model'] });
    expect((await chat(key, 'mock-gpt')).status).toBe(401);
    expect((await chat(key, 'other-model')).status).toBe(200);
  });
});
