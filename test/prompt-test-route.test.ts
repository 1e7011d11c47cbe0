import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's POST /prompts/test (its prompt playground) through workerd: a dotprompt sent with the request,
// rendered and run as the caller's chat (always streamed) against a fake OpenAI upstream on loopback.

let fake: FakeUpstream;
let stack: TestStack;

type Json = Record<string, any>;
const PROMPT = '---\nmodel: small\ntemperature: 0.4\nmax_tokens: 40\n---\nSystem: You tutor {{subject}}.\n\nUser: Teach me {{ subject }}.\n';

async function promptTest(body: unknown, key = TEST_MASTER_KEY): Promise<Response> {
  return fetch(`${stack.url}/prompts/test`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A refused request: its status and error, the upstream sent nothing. */
async function refused(body: unknown, key = TEST_MASTER_KEY): Promise<{ status: number; error: Json }> {
  const before = fake.requests.length;
  const res = await promptTest(body, key);
  const json = await res.json() as Json;
  expect(fake.requests.length).toBe(before);
  return { status: res.status, error: json.error };
}

/** The SSE stream's chunks (`data: {...}`), checked to end with `data: [DONE]`. */
async function chunks(res: Response): Promise<Json[]> {
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = (await res.text()).split('\n\n').map((e) => e.trim()).filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Json);
}

async function generateKey(body: Json): Promise<string> {
  const res = await fetch(`${stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json() as Json).key as string;
}

const spendRows = async () => Number((await query(stack.db.url, 'SELECT count(*) AS n FROM "LiteLLM_SpendLogs"'))[0]!.n);

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: big
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-up}
`,
  });
  await exec(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('pt-admin', 'proxy_admin'), ('pt-user', 'internal_user')`);
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

describe('POST /prompts/test', () => {
  it('renders the dotprompt and streams the chat it makes: the front matter model and settings, logged as acompletion', async () => {
    const res = await promptTest({ dotprompt_content: PROMPT, prompt_variables: { subject: 'algebra' } });
    expect(res.status).toBe(200);
    const streamed = await chunks(res);
    expect(streamed.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).not.toBe('');
    expect(streamed[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-4o-mini' });
    const upstream = fake.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer sk-up');
    expect(upstream.body).toMatchObject({
      model: 'gpt-4o-mini', temperature: 0.4, max_tokens: 40, stream: true,
      messages: [{ role: 'system', content: 'You tutor algebra.' }, { role: 'user', content: 'Teach me algebra.' }],
    });
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'acompletion', model_group: 'small', status: 'success', api_key: expect.any(String) });
    expect(Number(row.spend)).toBeGreaterThan(0);
    expect(Number(row.total_tokens)).toBeGreaterThan(0);
  });

  it('conversation_history replaces the rendered messages but the system ones', async () => {
    const history = [{ role: 'user', content: 'What is x?' }, { role: 'assistant', content: 'A variable.' }, { role: 'user', content: 'And y?' }];
    const res = await promptTest({ dotprompt_content: PROMPT, prompt_variables: { subject: 'algebra' }, conversation_history: history });
    expect(res.status).toBe(200);
    await chunks(res);
    expect((fake.requests.at(-1)!.body as Json).messages).toEqual([{ role: 'system', content: 'You tutor algebra.' }, ...history]);
    await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
  });

  it("bad input is a 400 in the OpenAI envelope, after the key check; nothing is called or logged", async () => {
    const rowsBefore = await spendRows();
    expect(await refused({ dotprompt_content: 'User: Hello' })).toEqual({
      status: 400, error: { message: 'Model is required in dotprompt metadata', type: 'bad_request_error', param: 'dotprompt_content', code: '400' },
    });
    expect((await refused({ prompt_variables: {} })).error).toMatchObject({ param: 'dotprompt_content', code: '400' });
    expect((await refused({ dotprompt_content: 7 })).error).toMatchObject({ param: 'dotprompt_content', message: 'dotprompt_content: must be a string' });
    expect((await refused({ dotprompt_content: PROMPT, prompt_variables: ['algebra'] })).error.param).toBe('prompt_variables');
    expect((await refused({ dotprompt_content: PROMPT, conversation_history: 'hi' })).error.param).toBe('conversation_history');
    expect((await refused('{not json')).status).toBe(400);
    expect((await refused({ dotprompt_content: '---\nmodel: small\n---\n{% if x %}hi{% endif %}' })).error).toMatchObject({ param: 'dotprompt_content', message: expect.stringContaining('{% if x %}') });
    expect((await refused({ dotprompt_content: '---\nmodel: small\nstop:\n  - x\n---\nUser: Hi' })).error.message).toMatch(/^Invalid YAML frontmatter/);
    expect((await refused({ dotprompt_content: '---\nmodel: small\n---\n{{ empty }}' })).error.message).toBe('No messages found in rendered prompt');
    // Without a valid key the answer is the 401, whatever the body.
    expect((await refused({ dotprompt_content: 'User: Hello' }, 'sk-unknown-0000')).status).toBe(401);
    // A call made now is logged; none of the refused bodies was.
    const ok = await promptTest({ dotprompt_content: PROMPT, prompt_variables: { subject: 'logic' } });
    await chunks(ok);
    await eventually(() => spendLogRow(stack.db.url, ok.headers.get('x-litellm-call-id') ?? ''));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await spendRows()).toBe(rowsBefore + 1);
  });

  it("a model no group serves is the chat's own 400, logged as its failure (as a chat's), before any provider", async () => {
    const res = await refused({ dotprompt_content: '---\nmodel: nope\n---\nUser: Hi' });
    expect([res.status, res.error.param]).toEqual([400, 'model']);
    const row = await eventually(async () => (await query(stack.db.url, `SELECT * FROM "LiteLLM_SpendLogs" WHERE model_group = 'nope'`))[0]);
    expect(row).toMatchObject({ call_type: 'acompletion', status: 'failure', spend: 0 });
  });

  it("callers: proxy admins only, whatever a key's allowed_routes say; the key's model access holds for the front matter's model", async () => {
    const admin = await generateKey({ user_id: 'pt-admin', models: ['small'] });
    const byAdmin = await promptTest({ dotprompt_content: PROMPT, prompt_variables: { subject: 'graphs' } }, admin);
    expect(byAdmin.status).toBe(200);
    await chunks(byAdmin);
    const denied = await refused({ dotprompt_content: '---\nmodel: big\n---\nUser: Hi' }, admin);
    expect(denied.status).toBe(401);
    expect(denied.error.message).toContain('big');

    // The route is in none of LiteLLM's route groups, and a key's allowed_routes (which team admins set here) grant
    // it to no one: anyone but a proxy admin is refused before the body is read.
    const others = [
      await generateKey({}), await generateKey({ user_id: 'pt-user' }), await generateKey({ allowed_routes: ['llm_api_routes'] }),
      await generateKey({ allowed_routes: ['/prompts/test'], models: ['small'] }), await generateKey({ allowed_routes: ['/prompts/*'] }),
    ];
    for (const key of others) {
      const other = await refused({ dotprompt_content: 'no model here' }, key);
      expect([other.status, other.error.type]).toEqual([401, 'auth_error']);
    }
    const plain = await refused({ dotprompt_content: PROMPT }, await generateKey({}));
    expect(plain.error.message).toBe('Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/prompts/test');
  });

  it("a key whose user's role cannot be read is a 503 with retry-after: 1, nothing called", async () => {
    const key = await generateKey({ user_id: 'pt-user' });
    // The key's policy read by a first call (a chat); then the users' table is unreadable for the role check.
    const chat = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'small', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(200);
    await exec(stack.db.url, 'ALTER TABLE "LiteLLM_UserTable" RENAME TO "LiteLLM_UserTable_away"');
    let res: Response;
    const before = fake.requests.length;
    try {
      res = await promptTest({ dotprompt_content: PROMPT }, key);
    } finally {
      await exec(stack.db.url, 'ALTER TABLE "LiteLLM_UserTable_away" RENAME TO "LiteLLM_UserTable"');
    }
    expect([res.status, res.headers.get('retry-after'), ((await res.json()) as Json).error?.type]).toEqual([503, '1', 'service_unavailable']);
    expect(fake.requests.length).toBe(before);
    // The table back, the role is read (nothing was kept from the failure): the key is no admin's.
    expect((await refused({ dotprompt_content: PROMPT }, key)).status).toBe(401);
  });

  it('a 1 MB dotprompt of unclosed {{ is refused at once; one past 256 KB is a 400 naming dotprompt_content', async () => {
    const started = Date.now();
    const unclosed = await refused({ dotprompt_content: `---\nmodel: small\n---\nUser: ${'{{'.repeat(512 * 1024)}` });
    expect(unclosed.error).toMatchObject({ param: 'dotprompt_content', message: 'dotprompt_content: must be at most 262144 characters', code: '400' });
    // Just under the cap, all unclosed openers: text, rendered and sent.
    const res = await promptTest({ dotprompt_content: `---\nmodel: small\n---\nUser: ${'{{'.repeat(128 * 1024 - 20)}` });
    expect(res.status).toBe(200);
    await chunks(res);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("front matter naming a managed prompt's fields is a 400 naming dotprompt_content", async () => {
    expect((await refused({ dotprompt_content: '---\nmodel: small\nprompt_id: tutor\n---\nUser: Hi' })).error).toMatchObject({
      param: 'dotprompt_content', message: 'prompt_id cannot be set in the front matter of dotprompt_content: the dotprompt is the prompt',
    });
  });

  it("the admin Worker keeps the rest of /prompts/: GET /prompts/test is a prompt's info", async () => {
    const res = await fetch(`${stack.url}/prompts/test`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect([res.status, (await res.json() as Json).error?.message]).toEqual([400, 'Prompt test not found']);
  });
});
