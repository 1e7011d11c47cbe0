import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The reference guide's workflow, through the gateway's base URL with the master key, as its curl calls do.
let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o-uae-primary
    litellm_params: {model: azure/gpt-4o, api_base: os.environ/AZURE_OPENAI_ENDPOINT_UAE, api_key: os.environ/AZURE_OPENAI_API_KEY_UAE, api_version: "2024-08-01-preview"}
    model_info: {mode: chat}
  - model_name: claude-sonnet-bedrock-me
    litellm_params: {model: mock/claude-sonnet}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
`,
    env: { AZURE_OPENAI_ENDPOINT_UAE: fake.url, AZURE_OPENAI_API_KEY_UAE: 'azure-uae-secret' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TEST_MASTER_KEY}`, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(200);
  return res.json() as Promise<Record<string, any>>;
};

describe('the reference guide, end to end', () => {
  it('team, key, a call, the spend everywhere finance looks, and a rotation', async () => {
    const team = await admin('POST', '/team/new', {
      team_alias: 'customer-support', max_budget: 2000, budget_duration: '30d', tpm_limit: 100000, rpm_limit: 1000,
      models: ['gpt-4o-uae-primary', 'claude-sonnet-bedrock-me'],
    });
    expect(team).toMatchObject({ team_alias: 'customer-support', max_budget: 2000, spend: 0, tpm_limit: 100000, rpm_limit: 1000 });

    const generated = await admin('POST', '/key/generate', {
      team_id: team.team_id, key_alias: 'customer-support-prod', max_budget: 500, budget_duration: '30d',
      metadata: { environment: 'production', owner: 'ai-platform' },
    });
    const key = generated.key as string;
    expect(key).toMatch(/^sk-/);

    const client = new OpenAI({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o-uae-primary', messages: [{ role: 'user', content: 'Summarize doc X' }],
    }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: Summarize doc X');
    expect(fake.requests[0]?.headers['api-key']).toBe('azure-uae-secret');
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    expect(cost).toBeGreaterThan(0);
    const callId = response.headers.get('x-litellm-call-id') as string;

    // The spend, once the queue consumer has written it: /key/info, /team/info, /spend/logs and the finance query.
    await eventually(async () => {
      const info = await admin('GET', `/key/info?key=${key}`);
      return info.info.spend > 0 ? true : undefined;
    });
    const keyInfo = await admin('GET', `/key/info?key=${key}`);
    expect(keyInfo.info.spend).toBeCloseTo(cost, 12);
    expect(keyInfo.info).toMatchObject({ key_alias: 'customer-support-prod', team_id: team.team_id, metadata: { environment: 'production' } });
    const teamInfo = await admin('GET', `/team/info?team_id=${team.team_id}`);
    expect(teamInfo.team_info.spend).toBeCloseTo(cost, 12);
    const logs = await admin('GET', `/spend/logs?request_id=${callId}`) as unknown as Record<string, any>[];
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ request_id: callId, team_id: team.team_id, model_group: 'gpt-4o-uae-primary' });
    const finance = await query(stack.db.url, `SELECT team_alias, date_trunc('day', created_at) AS day, SUM(spend) AS daily_spend_usd, COUNT(*) AS requests
      FROM "LiteLLM_SpendLogs" s JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id
      WHERE created_at >= NOW() - INTERVAL '30 days' GROUP BY 1, 2 ORDER BY 2 DESC, 3 DESC`);
    expect(finance).toHaveLength(1);
    expect(finance[0]).toMatchObject({ team_alias: 'customer-support' });
    expect(Number(finance[0]?.daily_spend_usd)).toBeCloseTo(cost, 12);
    expect(Number(finance[0]?.requests)).toBe(1);

    // "If it leaks, rotate it without touching provider keys."
    const rotated = await fetch(`${stack.url}/key/regenerate`, {
      method: 'POST', headers: { Authorization: `Bearer ${TEST_MASTER_KEY}` }, body: JSON.stringify({ key }),
    });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json() as { key: string }).key;
    await expect(client.chat.completions.create({ model: 'gpt-4o-uae-primary', messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const freshClient = new OpenAI({ baseURL: stack.url, apiKey: fresh, maxRetries: 0 });
    expect((await freshClient.chat.completions.create({ model: 'claude-sonnet-bedrock-me', messages: [{ role: 'user', content: 'x' }] })).choices).toHaveLength(1);
    const after = await admin('GET', `/key/info?key=${fresh}`);
    expect(after.info.spend).toBeGreaterThanOrEqual(cost);
    expect(after.info.key_alias).toBe('customer-support-prod');
  });
});
