import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey, seedTeam, sha256 } from './support/keys.ts';
import { exec } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's `litellm_settings.add_user_information_to_llm_headers` through workerd (proxy/user-info-headers.ts):
 * on, every provider request carries the caller's `x-litellm-user_api_key_*` headers (the key's hash, never
 * the key; its alias, user, team, org and the end user), and a client cannot put its own in their place;
 * off (the default), a provider sees none of them.
 */

let fake: FakeUpstream;

/** The setting on; client-header forwarding on or off (LiteLLM sends the caller's information only where it is on). */
const configYaml = (forwarding: boolean) => `
model_list:
  - model_name: gpt-info
    litellm_params: {model: "openai/gpt-4o-mini", api_base: "${fake.url}/v1", api_key: sk-upstream-0001}
litellm_settings:
  add_user_information_to_llm_headers: true
${forwarding ? 'general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n  forward_client_headers_to_llm_api: true\n' : ''}`;

/** A chat call through the official client; what the provider received. */
async function sent(stack: TestStack, apiKey: string, extra: { user?: string; headers?: Record<string, string> } = {}): Promise<RecordedRequest> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const before = fake.requests.length;
  await client.chat.completions.create(
    { model: 'gpt-info', messages: [{ role: 'user', content: 'hi' }], ...(extra.user ? { user: extra.user } : {}) },
    { headers: extra.headers ?? {} },
  );
  expect(fake.requests.length).toBe(before + 1);
  return fake.requests.at(-1)!;
}

const userInfo = (request: RecordedRequest) => Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.startsWith('x-litellm-user_api_key_')));

beforeAll(async () => {
  fake = await startFakeUpstream();
}, 30_000);

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => fake.reset());

describe('add_user_information_to_llm_headers: true, client headers forwarded', () => {
  let stack: TestStack;
  let key: string;
  let plainKey: string;
  let oddKey: string;

  beforeAll(async () => {
    stack = await startTestStack({ configYaml: configYaml(true) });
    await seedTeam(stack.db.url, { id: 'team-info', alias: 'Research' });
    key = await seedKey(stack.db.url, { userId: 'user-info', teamId: 'team-info', alias: 'prod-key' });
    await exec(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET organization_id = 'org-info', max_budget = 25 WHERE token = '${sha256(key)}'`);
    plainKey = await seedKey(stack.db.url, {});
    // A CR/LF or a non-ASCII character in a value could split or break the provider's request: such a value is left out.
    oddKey = await seedKey(stack.db.url, { userId: 'user-odd\r\nx-injected: 1', alias: 'clé-prod' });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("sends the virtual key's hash, alias, user, team, org and end user, never the key", async () => {
    const request = await sent(stack, key, { user: 'end-user-7' });
    expect(userInfo(request)).toEqual({
      'x-litellm-user_api_key_hash': sha256(key),
      'x-litellm-user_api_key_alias': 'prod-key',
      'x-litellm-user_api_key_spend': '0',
      'x-litellm-user_api_key_max_budget': '25',
      'x-litellm-user_api_key_user_id': 'user-info',
      'x-litellm-user_api_key_team_id': 'team-info',
      'x-litellm-user_api_key_team_alias': 'Research',
      'x-litellm-user_api_key_org_id': 'org-info',
      'x-litellm-user_api_key_end_user_id': 'end-user-7',
    });
    expect(JSON.stringify(request.headers)).not.toContain(key);
    expect(request.headers.authorization).toBe('Bearer sk-upstream-0001');
  });

  it('leaves out what the key does not have, and a client cannot send its own values', async () => {
    const request = await sent(stack, plainKey, { headers: { 'x-litellm-user_api_key_user_id': 'spoofed', 'x-litellm-user_api_key_team_id': 'spoofed' } });
    expect(userInfo(request)).toEqual({ 'x-litellm-user_api_key_hash': sha256(plainKey), 'x-litellm-user_api_key_spend': '0' });
  });

  it('sends the master key as its hash and LiteLLM\'s admin user id', async () => {
    const request = await sent(stack, TEST_MASTER_KEY);
    expect(userInfo(request)).toEqual({ 'x-litellm-user_api_key_hash': sha256(TEST_MASTER_KEY), 'x-litellm-user_api_key_user_id': 'default_user_id' });
    expect(JSON.stringify(request.headers)).not.toContain(TEST_MASTER_KEY);
  });

  it('leaves out a value with CR/LF or non-ASCII characters instead of sending it', async () => {
    const request = await sent(stack, oddKey);
    expect(userInfo(request)).toEqual({ 'x-litellm-user_api_key_hash': sha256(oddKey), 'x-litellm-user_api_key_spend': '0' });
    expect(request.headers['x-injected']).toBeUndefined();
  });
});

describe('add_user_information_to_llm_headers: true, client headers not forwarded (as in LiteLLM, nothing is sent)', () => {
  let stack: TestStack;
  let key: string;

  beforeAll(async () => {
    stack = await startTestStack({ configYaml: configYaml(false) });
    await seedTeam(stack.db.url, { id: 'team-info', alias: 'Research' });
    key = await seedKey(stack.db.url, { userId: 'user-info', teamId: 'team-info', alias: 'prod-key' });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('sends the provider none of the caller information', async () => {
    const request = await sent(stack, key, { user: 'end-user-7' });
    expect(userInfo(request)).toEqual({});
    expect(JSON.stringify(request.headers)).not.toContain(sha256(key));
  });
});
