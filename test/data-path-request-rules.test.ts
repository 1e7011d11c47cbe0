import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings' rules for a virtual key's call: enforced_params (the config's, the key's, service accounts'),
// reject_clientside_metadata_tags; and the client headers passed on to providers (forward_client_headers_to_llm_api,
// forward_openai_org_id).

let fake: FakeUpstream;
let strict: TestStack;

useDataPathStack((s) => ({ fake } = s));

beforeAll(async () => {
  strict = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: upstream-key}
general_settings:
  enforced_params: [metadata.generation_name]
  service_account_settings: {enforced_params: [user]}
  reject_clientside_metadata_tags: true
  pass_through_endpoints:
    - {path: /echo, target: "${fake.url}/v1/chat/completions"}
litellm_settings:
  disable_end_user_cost_tracking: true
`,
  });
});
afterAll(async () => {
  await strict?.stop();
});

type ApiError = InstanceType<typeof OpenAI.APIError>;
const clientOf = (key: string) => new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: key, maxRetries: 0 });
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ApiError);
const chat = (key: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  clientOf(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra } as never, headers ? { headers } : undefined);

describe('general_settings.enforced_params', () => {
  it('refuses a virtual key\'s call without a required param in LiteLLM\'s words (401, nothing sent upstream, a failure row kept), and serves one with it', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-enforced' });
    const noMetadata = await refusal(chat(key));
    expect(noMetadata).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(noMetadata?.error).toMatchObject({ type: 'auth_error', message: 'Authentication Error, BadRequest please pass param=metadata in request body. This is a required param' });
    const noName = await refusal(chat(key, { metadata: { other: 'x' } }));
    expect(noName?.error).toMatchObject({ message: 'Authentication Error, BadRequest please pass param=[metadata][generation_name] in request body. This is a required param' });
    expect(fake.requests).toHaveLength(0);
    const served = await chat(key, { metadata: { generation_name: 'nightly-summary' } });
    expect(served.choices[0]?.message.content).toBeTruthy();
    expect(fake.requests).toHaveLength(1);
    const rows = await eventually(async () => {
      const found = await query<{ status: string }>(strict.db.url, 'SELECT status FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);
      return found.length === 3 ? found : undefined;
    });
    expect(rows.map((r) => r.status).sort()).toEqual(['failure', 'failure', 'success']);
    // The master key is not held to them, as in LiteLLM.
    expect((await chat(TEST_MASTER_KEY)).choices).toHaveLength(1);
  });

  it('adds a key\'s own enforced_params (kept in its metadata by /key/generate) to the config\'s', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-own-params' });
    await query(strict.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2', [JSON.stringify({ enforced_params: ['temperature'] }), sha256(key)]);
    const refused = await refusal(chat(key, { metadata: { generation_name: 'g' } }));
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refused?.error).toMatchObject({ message: 'Authentication Error, BadRequest please pass param=temperature in request body. This is a required param' });
    expect((await chat(key, { metadata: { generation_name: 'g' }, temperature: 0 })).choices).toHaveLength(1);
  });

  it('holds a service account\'s key (/key/service-account/generate\'s, or marked service_account_id) to service_account_settings.enforced_params with a 400; others are not', async () => {
    await seedTeam(strict.db.url, { id: 'team-robots' });
    const generated = await fetch(`${strict.url}/key/service-account/generate`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ team_id: 'team-robots', key_alias: 'ci-bot' }),
    });
    expect(generated.status).toBe(200);
    const robot = (await generated.json() as { key: string }).key;
    const refused = await refusal(chat(robot, { metadata: { generation_name: 'g' } }));
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused?.error).toMatchObject({ type: 'bad_request_error', param: 'user', message: 'BadRequest please pass param=user in request body. This is a required param for service account' });
    expect((await chat(robot, { metadata: { generation_name: 'g' }, user: 'customer-1' })).choices).toHaveLength(1);
    const marked = await seedKey(strict.db.url, { userId: 'user-marked' });
    await query(strict.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2', [JSON.stringify({ service_account_id: 'etl' }), sha256(marked)]);
    expect((await refusal(chat(marked, { metadata: { generation_name: 'g' } })))?.error).toMatchObject({ param: 'user' });
    // As in LiteLLM, a key is a service account's by its marker only: a team's key without a user is not one.
    const unmarked = await seedKey(strict.db.url, { teamId: 'team-robots' });
    expect((await chat(unmarked, { metadata: { generation_name: 'g' } })).choices).toHaveLength(1);
    const person = await seedKey(strict.db.url, { teamId: 'team-robots', userId: 'user-person' });
    expect((await chat(person, { metadata: { generation_name: 'g' } })).choices).toHaveLength(1);
  });

  it('reads the body the client sent on /v1/messages (Anthropic\'s format), not its translation', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-anthropic-format' });
    const send = (metadata: Record<string, unknown>) => fetch(`${strict.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], metadata }),
    });
    const refused = await send({ user_id: 'u-1' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { message: expect.stringContaining('param=[metadata][generation_name]') } });
    const served = await send({ user_id: 'u-1', generation_name: 'g' });
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ type: 'message', role: 'assistant' });
  });
});

describe('litellm_settings.disable_end_user_cost_tracking', () => {
  it('keeps the end user out of the spend-log row and the daily end-user spend, and still serves the call', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-untracked' });
    const { response } = await clientOf(key).chat.completions.create({
      model: 'gpt-4o', user: 'customer-untracked', messages: [{ role: 'user', content: 'hi' }], metadata: { generation_name: 'g' },
    } as never).withResponse();
    const row = await eventually(async () => (await query<{ end_user: string | null; spend: number }>(strict.db.url, 'SELECT end_user, spend FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [response.headers.get('x-litellm-call-id')]))[0]);
    expect(row.end_user).toBeNull();
    expect(row.spend).toBeGreaterThan(0);
    expect(await query(strict.db.url, 'SELECT 1 FROM "LiteLLM_DailyEndUserSpend" WHERE end_user_id = $1', ['customer-untracked'])).toEqual([]);
  });
});

describe('general_settings.reject_clientside_metadata_tags', () => {
  it('refuses tags a virtual key\'s call names itself (metadata.tags, tags, x-litellm-tags) with a 400, while the key\'s own tags still reach its spend row', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-tags' });
    await query(strict.db.url, 'UPDATE "LiteLLM_VerificationToken" SET tags = $1 WHERE token = $2', [['cost-center-7'], sha256(key)]);
    const inMetadata = await refusal(chat(key, { metadata: { generation_name: 'g', tags: ['free-budget'] } }));
    expect(inMetadata).toBeInstanceOf(OpenAI.BadRequestError);
    expect(inMetadata?.error).toMatchObject({
      type: 'bad_request_error', param: 'metadata.tags',
      message: 'Client-side \'metadata.tags\' not allowed in request. \'reject_clientside_metadata_tags\'=True. Tags can only be set via API key metadata.',
    });
    expect((await refusal(chat(key, { metadata: { generation_name: 'g' }, tags: ['free-budget'] })))?.error).toMatchObject({ param: 'tags' });
    expect((await refusal(chat(key, { metadata: { generation_name: 'g' } }, { 'x-litellm-tags': 'free-budget' })))?.error).toMatchObject({ param: 'x-litellm-tags' });
    expect(fake.requests).toHaveLength(0);
    const { response } = await clientOf(key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: { generation_name: 'g' } } as never).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const row = await eventually(async () => (await query<{ request_tags: unknown }>(strict.db.url, 'SELECT request_tags FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [callId]))[0]);
    expect(row.request_tags).toEqual(['cost-center-7']);
    // The master key may still tag its calls.
    expect((await chat(TEST_MASTER_KEY, { metadata: { tags: ['ops'] } })).choices).toHaveLength(1);
  });

  it('refuses them on the pass-through routes too', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-tags-pass-through' });
    const post = (headers: Record<string, string>) => fetch(`${strict.url}/echo`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    });
    const refused = await post({ 'x-litellm-tags': 'free-budget' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { type: 'bad_request_error', param: 'x-litellm-tags' } });
    expect(fake.requests).toHaveLength(0);
    expect((await post({})).status).toBe(200);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('general_settings.forward_client_headers_to_llm_api and forward_openai_org_id', () => {
  let forwarding: TestStack;
  beforeAll(async () => {
    forwarding = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: upstream-key, extra_headers: {X-Tenant-Id: acme}}
  - model_name: gpt-4o-org
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: upstream-key, organization: org-deployment}
general_settings:
  forward_client_headers_to_llm_api: true
  forward_openai_org_id: true
`,
    });
  });
  afterAll(async () => {
    await forwarding?.stop();
  });

  it('passes the client\'s x- headers and OpenAI-Organization on, but never credentials, the SDK\'s, the gateway\'s own or proxies\'', async () => {
    const key = await seedKey(forwarding.db.url, { userId: 'user-forward' });
    const client = new OpenAI({ baseURL: `${forwarding.url}/v1`, apiKey: key, maxRetries: 0, organization: 'org-client' });
    const headers = {
      'x-trace-id': 'trace-77', 'x-litellm-tags': 'a', 'x-mcp-github-authorization': 'Bearer ghp-secret', 'x-forwarded-for': '10.0.0.9',
      'x-api-key': 'sk-ant-client-secret', 'x-goog-api-key': 'goog-client-secret', 'x-goog-user-project': 'someone-elses-project',
      'x-http-method-override': 'DELETE', 'x-tenant-id': 'evil', 'x-a2a-helper-authorization': 'Bearer a2a-agent-secret',
    };
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers });
    const sent = fake.requests.at(-1)!.headers;
    // The deployment's own extra_headers win whatever their letter case: the provider sees one value, the admin's.
    expect(sent).toMatchObject({ 'x-trace-id': 'trace-77', 'openai-organization': 'org-client', authorization: 'Bearer upstream-key', 'x-tenant-id': 'acme' });
    for (const name of Object.keys(sent)) expect(name).not.toMatch(/^x-(stainless|litellm|mcp|a2a|forwarded|api-key|goog-|http-method)/);
    expect(JSON.stringify(sent)).not.toContain('secret');
    expect(JSON.stringify(sent)).not.toContain(key);
    // A deployment's own organization wins over the client's.
    await client.chat.completions.create({ model: 'gpt-4o-org', messages: [{ role: 'user', content: 'hi' }] }, { headers });
    expect(fake.requests.at(-1)!.headers).toMatchObject({ 'openai-organization': 'org-deployment', 'x-trace-id': 'trace-77' });
  });

  it('passes nothing of the kind where the settings are off', async () => {
    const key = await seedKey(strict.db.url, { userId: 'user-no-forward' });
    const client = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: key, maxRetries: 0, organization: 'org-client' });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], metadata: { generation_name: 'g' } } as never, { headers: { 'x-trace-id': 'trace-78' } });
    const sent = fake.requests.at(-1)!.headers;
    expect(sent['x-trace-id']).toBeUndefined();
    expect(sent['openai-organization']).toBeUndefined();
  });
});
