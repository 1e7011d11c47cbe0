import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { type TestStack } from './support/stack.ts';

// The spend-log rows of virtual keys' calls: served, refused, with their spend_logs_metadata.

let fake: FakeUpstream;
let stack: TestStack;

useDataPathStack((s) => ({ fake, stack } = s));

describe('virtual keys', () => {
  it('record a refused call of a known key as a failed spend-log row, with no spend; an unknown key\'s request is not a call', async () => {
    const narrow = await seedKey(stack.db.url, { models: ['llama'] });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: narrow, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const open = await seedKey(stack.db.url, { models: [] });
    await expect(new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: open, maxRetries: 0 }).chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = ANY($1) ORDER BY model_group', [[sha256(narrow), sha256(open)]]);
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((r) => [r.model_group, r.status, Number(r.spend)])).toEqual([['gpt-4o', 'failure', 0], ['no-such-model', 'failure', 0]]);
    expect(rows.map((r) => (r.metadata as { error_information?: { error_code?: string } }).error_information?.error_code)).toEqual(['401', '400']);
    expect(rows[0]?.metadata).toMatchObject({ error_information: { error_class: 'key_model_access_denied' } });
    const [key] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(narrow)]);
    expect(Number(key?.spend)).toBe(0);

    const unknown = 'sk-never-issued-key-4242';
    await expect(new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: unknown, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // Written after the refusals above: had the unknown key's request been recorded, it would be there by now.
    const later = await seedKey(stack.db.url, { models: ['llama'] });
    await expect(new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: later, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await eventually(async () => (await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(later)]))[0]);
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(unknown)])).toEqual([]);
  });

  it('record each call in LiteLLM_SpendLogs and add its cost to the key', async () => {
    await seedTeam(stack.db.url, { id: 'team-spend', alias: 'spenders' });
    // user-42's own budget inside the team (max_budget_in_team): its spend there counts too.
    await query(stack.db.url, `INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget) VALUES ('member-budget-42', 100)`);
    await query(stack.db.url, `INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, budget_id) VALUES ('user-42', 'team-spend', 'member-budget-42')`);
    const key = await seedKey(stack.db.url, { teamId: 'team-spend', userId: 'user-42', alias: 'spend-key' });
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({
      model: 'gpt-4o', user: 'customer-9', messages: [{ role: 'user', content: 'count my spend' }],
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    expect(row).toMatchObject({
      request_id: callId, call_type: 'acompletion', api_key: sha256(key), team_id: 'team-spend', user: 'user-42',
      end_user: 'customer-9', model: 'gpt-4o', model_group: 'gpt-4o', custom_llm_provider: 'openai',
      prompt_tokens: 6, completion_tokens: 4, total_tokens: 10, status: 'success', cache_hit: false,
      messages: null, response: null,
    });
    expect(row.spend).toBeCloseTo(cost, 12);
    expect(row.metadata).toMatchObject({ user_api_key_alias: 'spend-key', user_api_key_team_alias: 'spenders' });
    const [keyRow] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
    expect(keyRow?.spend).toBeCloseTo(cost, 12);
    const [teamRow] = await query<{ team_spend: number }>(stack.db.url, 'SELECT team_spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-spend']);
    expect(teamRow?.team_spend).toBeCloseTo(cost, 12);
    const [memberRow] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_TeamMembership" WHERE user_id = $1 AND team_id = $2', ['user-42', 'team-spend']);
    expect(memberRow?.spend).toBeCloseTo(cost, 12);
  });

  it('keep a call\'s spend_logs_metadata, from the x-litellm-spend-logs-metadata header or the body\'s metadata', async () => {
    const key = await seedKey(stack.db.url, {});
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const viaHeader = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-litellm-spend-logs-metadata': '{"ticket": "T-1", "cost_center": 42}' } }).withResponse();
    const viaBody = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], metadata: { spend_logs_metadata: { ticket: 'T-2' } } } as never).withResponse();
    const rowOf = (r: { response: Response }) => eventually(() => spendLogRow(stack.db.url, r.response.headers.get('x-litellm-call-id') ?? ''));
    expect((await rowOf(viaHeader))?.metadata).toMatchObject({ spend_logs_metadata: { ticket: 'T-1', cost_center: 42 } });
    expect((await rowOf(viaBody))?.metadata).toMatchObject({ spend_logs_metadata: { ticket: 'T-2' } });
  });

  it('keep the client\'s metadata as requester_metadata, without the callback credentials it carried', async () => {
    const key = await seedKey(stack.db.url, {});
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const metadata = { app: 'billing', langfuse_secret_key: 'sk-lf-client-9', langsmith_api_key: 'ls-client-9', posthog_api_key: 'phc_client_9', posthog_api_url: 'https://ph.example' };
    const call = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], metadata } as never).withResponse();
    const row = await eventually(() => spendLogRow(stack.db.url, call.response.headers.get('x-litellm-call-id') ?? ''));
    expect((row.metadata as { requester_metadata?: unknown }).requester_metadata).toEqual({ app: 'billing' });
    expect(JSON.stringify(row)).not.toMatch(/client-9|client_9|ph\.example/);
  });
});
