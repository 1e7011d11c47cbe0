import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { startDataPathStack } from './support/data-path.ts';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Virtual keys on the data path: model access, refusals, the auth headers, spend records.

let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  ({ fake, stack } = await startDataPathStack());
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('virtual keys', () => {
  it('list only the models a key may use; access groups and team lists apply', async () => {
    const only = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const beta = await seedKey(stack.db.url, { models: ['beta-models'] });
    await seedTeam(stack.db.url, { id: 'team-narrow', models: ['embedder', 'gpt-4o'] });
    const teamKey = await seedKey(stack.db.url, { teamId: 'team-narrow', models: [] });
    const ids = async (key: string) => (await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key }).models.list()).data.map((m) => m.id).sort();
    expect(await ids(only)).toEqual(['gpt-4o']);
    expect(await ids(beta)).toEqual(['llama']);
    expect(await ids(teamKey)).toEqual(['embedder', 'gpt-4o']);
    expect(await ids(TEST_MASTER_KEY)).toEqual(['azure-gpt', 'bare-name', 'embedder', 'gpt-4o', 'instruct', 'llama', 'unreachable']);
    const one = await fetch(`${stack.url}/v1/models/gpt-4o`, { headers: { authorization: `Bearer ${only}` } });
    expect(await one.json()).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const hidden = await fetch(`${stack.url}/v1/models/llama`, { headers: { authorization: `Bearer ${only}` } });
    expect(hidden.status).toBe(404);
  });

  it('are refused with LiteLLM\'s error types, never echoing the key', async () => {
    const keyClient = (key: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = (key: string, model = 'gpt-4o') => keyClient(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });

    const unknown = 'sk-this-key-does-not-exist-9999';
    const err401 = await ask(unknown).catch((e: unknown) => e);
    expect(err401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ type: 'token_not_found_in_db', code: '401' });
    expect(JSON.stringify((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain(unknown);

    const blocked = await seedKey(stack.db.url, { blocked: true });
    await expect(ask(blocked)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    const expired = await seedKey(stack.db.url, { expires: new Date(Date.now() - 60_000) });
    const errExpired = await ask(expired).catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(errExpired).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(errExpired.error).toMatchObject({ type: 'expired_key' });

    const narrow = await seedKey(stack.db.url, { models: ['llama'] });
    const denied = await ask(narrow, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(denied.error).toMatchObject({ type: 'key_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-llama', models: ['llama'] });
    const inTeam = await seedKey(stack.db.url, { teamId: 'team-llama', models: ['gpt-4o', 'llama'] });
    const teamDenied = await ask(inTeam, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(teamDenied.error).toMatchObject({ type: 'team_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-blocked', blocked: true });
    const blockedTeam = await seedKey(stack.db.url, { teamId: 'team-blocked' });
    await expect(ask(blockedTeam)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(fake.requests).toHaveLength(0);
  });

  it('hold a personal key to its user\'s model list and any key to its organization\'s (LiteLLM\'s user_ and org_model_access_denied)', async () => {
    await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, models) VALUES ('user-llama-only', '{llama}')`);
    const personal = await seedKey(stack.db.url, { userId: 'user-llama-only', models: [] });
    const ask = (key: string, model: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });
    const byUser = await ask(personal, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(byUser).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(byUser.error).toMatchObject({ type: 'user_model_access_denied', message: 'user not allowed to access model. This user can only access models=["llama"]. Tried to access gpt-4o' });
    expect((await ask(personal, 'llama')).choices[0]?.message.content).toBeTruthy();
    // In a team, the team's list applies instead of the user's.
    await seedTeam(stack.db.url, { id: 'team-open', models: [] });
    const inTeam = await seedKey(stack.db.url, { userId: 'user-llama-only', teamId: 'team-open', models: [] });
    expect((await ask(inTeam, 'gpt-4o')).choices[0]?.message.content).toBeTruthy();

    await query(stack.db.url, `INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, models) VALUES ('org-gpt-only', 'GPT only', '{gpt-4o}')`);
    const orgKey = await seedKey(stack.db.url, { models: [] });
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET organization_id = 'org-gpt-only' WHERE token = $1`, [sha256(orgKey)]);
    const byOrg = await ask(orgKey, 'llama').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(byOrg.error).toMatchObject({ type: 'org_model_access_denied' });
    expect((await ask(orgKey, 'gpt-4o')).choices[0]?.message.content).toBeTruthy();
  });

  it('are asked for before the body is read: no key and a malformed body is a 401, a key and a malformed body a 400', async () => {
    const post = (headers: Record<string, string>) => fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"model": "gpt-4o", "messages": ' });
    const anonymous = await post({});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: 'auth_error', message: expect.stringContaining('No api key passed in') } });
    expect((await post({ authorization: `Bearer ${TEST_MASTER_KEY}` })).status).toBe(400);
  });

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

  it('also authenticate through every header LiteLLM reads a key from, and the configured litellm_key_header_name', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const header of ['x-api-key', 'api-key', 'x-litellm-api-key', 'x-goog-api-key', 'Ocp-Apim-Subscription-Key', 'X-Tollgate-Key']) {
      const res = await fetch(`${stack.url}/v1/models`, { headers: { [header]: key } });
      expect(res.status, header).toBe(200);
      expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id), header).toEqual(['gpt-4o']);
    }
    const unknown = await fetch(`${stack.url}/v1/models`, { headers: { 'x-goog-api-key': 'sk-not-a-key-0000' } });
    expect(unknown.status).toBe(401);
  });

  it('take the key from x-litellm-api-key or the configured header over an Authorization meant for someone else, and pass neither on', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const header of ['x-litellm-api-key', 'X-Tollgate-Key']) {
      fake.reset();
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-provider-key-not-for-tollgate', defaultHeaders: { [header]: `Bearer ${key}` }, maxRetries: 0 });
      const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(data.choices[0]?.message.content).toBeTruthy();
      const sent = fake.requests[0]?.headers ?? {};
      expect(sent.authorization).toBe('Bearer sk-upstream-openai-secret-0001');
      expect(JSON.stringify(sent)).not.toContain(key);
      const requestId = response.headers.get('x-litellm-call-id')!;
      const row = await eventually(() => spendLogRow(stack.db.url, requestId));
      expect(row?.api_key).toBe(sha256(key));
    }
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
});

describe('general_settings.enforce_user_param', () => {
  let strict: TestStack;
  beforeAll(async () => {
    strict = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: upstream-key}
general_settings:
  enforce_user_param: true
`,
    });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses a virtual key\'s call that names no end user (401, nothing sent upstream), and lets one that does through', async () => {
    const key = await seedKey(strict.db.url, { models: [] });
    const client = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: key, maxRetries: 0 });
    const refused = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: expect.stringContaining("'user' param not passed in"), type: 'auth_error' });
    expect(fake.requests).toHaveLength(0);
    const served = await client.chat.completions.create({ model: 'gpt-4o', user: 'customer-7', messages: [{ role: 'user', content: 'hi' }] });
    expect(served.choices[0]?.message.content).toBeTruthy();
    // The master key is not held to it, as in LiteLLM.
    const admin = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    expect((await admin.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).choices).toHaveLength(1);
  });
});
