// A2A agents' header forwarding (static_headers, extra_headers, x-a2a-{agent}-{header}), agent-level rpm_limit,
// and tasks/resubscribe, end to end through workerd with fake A2A agents on loopback; config.yaml agents and
// stored ones (POST /v1/agents). Headers addressed among agents, header rotation and limiter edges in
// test/a2a-agents-header-claims.test.ts; calls and the registry otherwise in test/a2a-agents-*.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeA2aAgent, startFakeA2aAgent } from './fakes/a2a-agent.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const HELPER_SECRET = 'helper-secret-0123456789';
const OTHER_SECRET = 'other-secret-0123456789';
const STATIC_SECRET = 'static-header-secret-42';
let stack: TestStack;
let helper: FakeA2aAgent;
let other: FakeA2aAgent;

beforeAll(async () => {
  [helper, other] = await Promise.all([startFakeA2aAgent({ name: 'helper', bearer: HELPER_SECRET }), startFakeA2aAgent({ name: 'other', bearer: OTHER_SECRET })]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt}
agent_list:
  - agent_name: hdr
    agent_card_params: {name: hdr, url: "${helper.url}"}
    litellm_params: {api_key: os.environ/HELPER_AGENT_KEY}
    static_headers: {X-Tenant: acme, X-Static-Token: os.environ/STATIC_SECRET}
    extra_headers: [X-Request-Trace, Authorization]
  - agent_name: limited
    agent_card_params: {name: limited, url: "${helper.url}"}
    litellm_params: {api_key: os.environ/HELPER_AGENT_KEY}
    rpm_limit: 2
  - agent_name: other
    agent_card_params: {name: other, url: "${other.url}", capabilities: {streaming: true}}
    litellm_params: {api_key: os.environ/OTHER_AGENT_KEY, cost_per_query: 0.5}
`,
    env: { LITELLM_SALT_KEY: 'a2a-headers-salt-0123456789', HELPER_AGENT_KEY: HELPER_SECRET, OTHER_AGENT_KEY: OTHER_SECRET, STATIC_SECRET },
  });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), helper?.close(), other?.close()]);
});

async function call(method: string, path: string, body?: unknown, key = TEST_MASTER_KEY, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, {
    method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined) as any };
}
const newKey = async () => (await call('POST', '/key/generate', {})).json.key as string;
const send = (text: string, method = 'message/send', id: unknown = 1) => ({
  jsonrpc: '2.0', id, method, params: { message: { role: 'user', messageId: `u-${Math.random()}`, parts: [{ kind: 'text', text }] } },
});
const card = (name: string, url: string) => ({ protocolVersion: '0.3', name, url, version: '1.0.0', capabilities: { streaming: true }, skills: [] });

describe('headers sent to the agent', () => {
  it('static headers (os.environ/ read), extra_headers and x-a2a-{agent}-{header} reach that agent only; never the gateway key', async () => {
    const key = await newKey();
    const clientHeaders = {
      'x-request-trace': 'trace-1', 'x-a2a-hdr-foo': 'bar', 'x-a2a-other-foo': 'for-other', 'x-a2a-hdr-x-agent-token': 'agent-credential-xyz',
      // A client cannot override a static header, speak for another user, or smuggle the gateway key through.
      'x-a2a-hdr-x-tenant': 'evil', 'x-a2a-hdr-x-litellm-user-id': 'someone-else', 'x-a2a-hdr-leak': `Bearer ${key}`,
    };
    const res = await call('POST', '/a2a/hdr', send('hello'), key, clientHeaders);
    expect(res.status).toBe(200);
    expect(res.json.result.parts[0].text).toBe('helper says: hello');
    const seen = helper.requests.at(-1)!.headers;
    expect(seen).toMatchObject({
      'x-tenant': 'acme', 'x-static-token': STATIC_SECRET, 'x-request-trace': 'trace-1', foo: 'bar', 'x-agent-token': 'agent-credential-xyz',
      authorization: `Bearer ${HELPER_SECRET}`,
    });
    expect(seen['x-litellm-user-id']).not.toBe('someone-else');
    expect(seen.leak).toBeUndefined();
    expect(Object.keys(seen).filter((h) => h.startsWith('x-a2a-'))).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain(key);

    // The same request to another agent: only what is addressed to it.
    const toOther = await call('POST', '/a2a/other', send('hi'), key, clientHeaders);
    expect(toOther.status).toBe(200);
    const otherSeen = other.requests.at(-1)!.headers;
    expect(otherSeen.foo).toBe('for-other');
    expect(otherSeen['x-agent-token']).toBeUndefined();
    expect(otherSeen['x-request-trace']).toBeUndefined();
    expect(otherSeen['x-tenant']).toBeUndefined();
    expect(otherSeen.authorization).toBe(`Bearer ${OTHER_SECRET}`);

    // Each call has its spend row, none holding what was sent for the agent or its static secret (rows keep no
    // request header but x-litellm-* ones; what loggers could carry is in worker/a2a/agent-headers.test.ts).
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);
      return found.length >= 2 ? found : undefined;
    });
    const logged = JSON.stringify(rows);
    for (const secret of ['agent-credential-xyz', STATIC_SECRET, HELPER_SECRET, 'bar']) expect(logged).not.toContain(secret);
  });
});

describe("an agent's rpm_limit", () => {
  it('refuses the (n+1)th call to the agent in the minute, whichever key makes it, with a 429; other agents are not held', async () => {
    const [first, second] = await Promise.all([newKey(), newKey()]);
    expect((await call('POST', '/a2a/limited', send('one'), first)).status).toBe(200);
    expect((await call('POST', '/a2a/limited', send('two'), second)).status).toBe(200);
    const refused = await call('POST', '/a2a/limited', send('three'), first);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('Rate limit exceeded for agent:') });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const calls = helper.requests.filter((r) => r.body.params?.message?.parts?.[0]?.text === 'three');
    expect(calls).toEqual([]);
    expect((await call('POST', '/a2a/other', send('still fine'), first)).status).toBe(200);
    expect((await call('POST', '/a2a/hdr', send('still fine'), second)).status).toBe(200);
  });
});

describe('stored agents carry headers and limits through the admin API', () => {
  it('POST /v1/agents stores static_headers (auth ones sealed, never shown), extra_headers and rpm_limit; PATCH changes them', async () => {
    const created = await call('POST', '/v1/agents', {
      agent_name: 'stored-hdr', agent_card_params: card('stored-hdr', other.url),
      static_headers: { Authorization: `Bearer ${OTHER_SECRET}`, 'X-Team': 'blue' }, extra_headers: ['X-Trace'], rpm_limit: 1,
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ static_headers: { 'x-team': 'blue' }, extra_headers: ['X-Trace'], rpm_limit: 1, tpm_limit: null });
    expect(created.text).not.toContain(OTHER_SECRET);
    const id = created.json.agent_id as string;
    const [row] = await query(stack.db.url, 'SELECT static_headers, extra_headers, rpm_limit FROM "LiteLLM_AgentsTable" WHERE agent_id = $1', [id]);
    expect(JSON.stringify(row)).not.toContain(OTHER_SECRET);
    expect(row).toMatchObject({ extra_headers: ['X-Trace'] });
    expect(Number(row?.rpm_limit)).toBe(1);

    const key = await newKey();
    // Served within seconds; the sealed Authorization opens and is what the agent accepts.
    const first = await eventually(async () => {
      const res = await call('POST', `/a2a/${id}`, send('stored'), key, { 'x-trace': 't-9' });
      return res.status === 200 ? res : undefined;
    });
    expect(first.json.result.parts[0].text).toBe('other says: stored');
    expect(other.requests.at(-1)!.headers).toMatchObject({ authorization: `Bearer ${OTHER_SECRET}`, 'x-team': 'blue', 'x-trace': 't-9' });
    expect((await call('POST', `/a2a/${id}`, send('again'), key)).status).toBe(429);

    const listed = await call('GET', `/v1/agents/${id}`);
    expect(listed.json).toMatchObject({ static_headers: { 'x-team': 'blue' }, extra_headers: ['X-Trace'], rpm_limit: 1 });
    expect(listed.text).not.toContain(OTHER_SECRET);

    // PATCH: the limit cleared, one header changed; the sealed Authorization, not named, stays.
    const patched = await call('PATCH', `/v1/agents/${id}`, { rpm_limit: null, static_headers: { 'X-Team': 'green' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ static_headers: { 'x-team': 'green' }, extra_headers: ['X-Trace'], rpm_limit: null });
    const after = await eventually(async () => {
      const res = await call('POST', `/a2a/${id}`, send('after patch'), key);
      return res.status === 200 && other.requests.at(-1)!.headers['x-team'] === 'green' ? res : undefined;
    });
    expect(after.status).toBe(200);
    expect((await call('POST', `/a2a/${id}`, send('and again'), key)).status).toBe(200);

    // PUT: extra_headers left out are cleared; the sealed Authorization, not named, still stays.
    const put = await call('PUT', `/v1/agents/${id}`, { agent_name: 'stored-hdr', agent_card_params: card('stored-hdr', other.url), static_headers: { 'X-Team': 'red' } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ static_headers: { 'x-team': 'red' }, extra_headers: [], rpm_limit: null });
    await eventually(async () => {
      const res = await call('POST', `/a2a/${id}`, send('after put'), key, { 'x-trace': 't-10' });
      const seen = other.requests.at(-1)!.headers;
      return res.status === 200 && seen['x-team'] === 'red' && seen['x-trace'] === undefined ? res : undefined;
    });
  });

  it('refuses bad header names, header values with line breaks and limits below 1 (422), storing nothing', async () => {
    for (const [field, value] of [['static_headers', { 'Bad Header': 'x' }], ['static_headers', { 'X-Ok': 'a\r\nInjected: 1' }], ['extra_headers', ['no spaces allowed']], ['rpm_limit', 0], ['tpm_limit', 1.5]] as const) {
      const res = await call('POST', '/v1/agents', { agent_name: 'bad-agent', agent_card_params: card('bad-agent', other.url), [field]: value });
      expect(res.status, `${field}: ${JSON.stringify(value)}`).toBe(422);
      expect(res.json.error).toMatchObject({ message: expect.stringContaining(field), type: expect.any(String) });
    }
    const [row] = await query(stack.db.url, `SELECT count(*)::int AS n FROM "LiteLLM_AgentsTable" WHERE agent_name = 'bad-agent'`, []);
    expect(row?.n).toBe(0);
  });
});

describe('tasks/resubscribe', () => {
  it("passes the task's SSE events on (also as A2A 1.0's SubscribeToTask), billed nothing though the agent has a cost_per_query", async () => {
    const key = await newKey();
    // The key's own task (another's is TaskNotFound: a2a-agents-task-owners.test.ts).
    const started = await call('POST', '/a2a/other', { jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { role: 'user', messageId: 'm-1', parts: [{ kind: 'text', text: 'start a task' }] } } }, key);
    const taskId = started.json.result.id as string;
    expect(started.json.result.kind).toBe('task');
    for (const method of ['tasks/resubscribe', 'SubscribeToTask']) {
      const res = await fetch(`${stack.url}/a2a/other`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'r-1', method, params: { id: taskId } }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as { result: { taskId: string; status: { state: string } } });
      expect(events.map((e) => [e.result.taskId, e.result.status.state])).toEqual([[taskId, 'working'], [taskId, 'completed']]);
      expect(other.requests.at(-1)!.body).toMatchObject({ method: 'tasks/resubscribe', params: { id: taskId } });
    }
    // Without the task's id: -32602, nothing sent.
    const before = other.requests.length;
    const bad = await call('POST', '/a2a/other', { jsonrpc: '2.0', id: 2, method: 'tasks/resubscribe', params: {} }, key);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe(-32602);
    expect(other.requests.length).toBe(before);
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, 'SELECT spend, status, call_type FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"', [sha256(key)]);
      return found.length >= 3 ? found : undefined;
    });
    expect(rows.map((r) => [r.spend, r.status, r.call_type])).toEqual([[0.5, 'success', 'asend_message'], [0, 'success', 'asend_message'], [0, 'success', 'asend_message']]);
  });
});
