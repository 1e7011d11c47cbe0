// A2A agents' headers among several agents and over time, end to end through workerd with a fake A2A agent on
// loopback: which agent an x-a2a-{agent}-{header} header is for when names overlap (a / a-b, Twin / twin),
// extra_headers: [Authorization] against the gateway key, a stored static header rotated under another letter
// case, and the agent limiter's edges (Postgres stuck under its policy read; an agent re-created under its id).
// The basics are in test/a2a-agents-headers-limits.test.ts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal, sealingKey, unseal } from '../worker/models/db-models.ts';
import { type FakeA2aAgent, startFakeA2aAgent } from './fakes/a2a-agent.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const SECRET = 'claims-agent-secret-0123456789';
const SALT = 'a2a-claims-salt-0123456789';
let stack: TestStack;
let agent: FakeA2aAgent;

beforeAll(async () => {
  agent = await startFakeA2aAgent({ name: 'agent', bearer: SECRET });
  const configured = (name: string, extra = '    litellm_params: {api_key: os.environ/AGENT_KEY}\n') => `  - agent_name: ${name}
    agent_card_params: {name: ${name}, url: "${agent.url}"}
${extra}`;
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt}
agent_list:
${['a', 'a-b', 'Twin', 'twin'].map((name) => configured(name)).join('')}${configured('nokey', '    extra_headers: [Authorization, X-Request-Trace]\n')}`,
    env: { LITELLM_SALT_KEY: SALT, AGENT_KEY: SECRET },
  });
});
afterAll(async () => {
  await Promise.all([stack?.stop(), agent?.close()]);
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${TEST_MASTER_KEY}` }) {
  const res = await fetch(`${stack.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined) as any };
}
const newKey = async () => (await call('POST', '/key/generate', {})).json.key as string;
const send = (text: string) => ({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { role: 'user', messageId: `u-${Math.random()}`, parts: [{ kind: 'text', text }] } } });
const card = (name: string) => ({ protocolVersion: '0.3', name, url: agent.url, version: '1.0.0', capabilities: {}, skills: [] });
const lastSeen = () => agent.requests.at(-1)!.headers;
const spendRows = (key: string) => query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(key)]);

describe('x-a2a-{agent}-{header} among agents whose names overlap', () => {
  it('goes to the agent whose name claims the most of it; one two agents claim alike goes to neither', async () => {
    const key = await newKey();
    const headers = {
      authorization: `Bearer ${key}`, 'x-a2a-a-b-x-token': 'token-for-a-b', 'x-a2a-a-x-token': 'token-for-a', 'x-a2a-twin-x-token': 'token-for-a-twin',
      // content-* and accept-* are the gateway's: a client cannot set them on the agent's request.
      'x-a2a-a-content-language': 'fr', 'x-a2a-a-accept-language': 'fr',
    };
    expect((await call('POST', '/a2a/a', send('to a'), headers)).status).toBe(200);
    expect(lastSeen()['x-token']).toBe('token-for-a');
    expect([lastSeen()['content-language'], lastSeen()['accept-language']]).toEqual([undefined, undefined]);
    // Agent a's prefix fits x-a2a-a-b-x-token too, but a-b's is longer: a never gets a-b's header (as b-x-token).
    expect(lastSeen()['b-x-token']).toBeUndefined();
    expect((await call('POST', '/a2a/a-b', send('to a-b'), headers)).status).toBe(200);
    expect(lastSeen()['x-token']).toBe('token-for-a-b');
    for (const twin of ['Twin', 'twin']) {
      expect((await call('POST', `/a2a/${twin}`, send('to a twin'), headers)).status).toBe(200);
      expect(lastSeen()['x-token']).toBeUndefined();
    }
    // Each call has its spend row, none holding an agent's header (rows keep no request header but x-litellm-* ones,
    // which agents never get; what loggers could carry, Langfuse's headers, is in worker/a2a/agent-headers.test.ts).
    const rows = await eventually(async () => {
      const found = await spendRows(key);
      return found.length >= 4 ? found : undefined;
    });
    expect(JSON.stringify(rows)).not.toContain('token-for-');
  });
});

describe('extra_headers: [Authorization]', () => {
  it('never hands an agent without an api_key the gateway key, but passes the agent credential a client sends beside its key', async () => {
    const key = await newKey();
    const res = await call('POST', '/a2a/nokey', send('hi'), { authorization: `Bearer ${key}`, 'x-request-trace': 't-3' });
    expect(res.status).toBe(502);
    expect(lastSeen()['x-request-trace']).toBe('t-3');
    expect(lastSeen().authorization).toBeUndefined();
    expect(JSON.stringify(lastSeen())).not.toContain(key);
    const own = await call('POST', '/a2a/nokey', send('hi'), { 'x-litellm-api-key': key, authorization: `Bearer ${SECRET}` });
    expect(own.status).toBe(200);
    expect(lastSeen().authorization).toBe(`Bearer ${SECRET}`);
  });
});

describe('a stored static header under another letter case', () => {
  it('rotating it replaces the stored one (the agent gets only the new value); null removes it', async () => {
    const created = await call('POST', '/v1/agents', { agent_name: 'rotated', agent_card_params: card('rotated'), static_headers: { authorization: 'Bearer old-credential-1', 'X-Team': 'blue' } });
    expect(created.status).toBe(200);
    const id = created.json.agent_id as string;
    const key = await newKey();
    await eventually(async () => ((await call('POST', `/a2a/${id}`, send('old'), { authorization: `Bearer ${key}` })).status === 502 ? true : undefined));
    expect(lastSeen().authorization).toBe('Bearer old-credential-1');

    expect((await call('PATCH', `/v1/agents/${id}`, { static_headers: { Authorization: `Bearer ${SECRET}` } })).status).toBe(200);
    const [row] = await query<{ static_headers: Record<string, string> }>(stack.db.url, 'SELECT static_headers FROM "LiteLLM_AgentsTable" WHERE agent_id = $1', [id]);
    expect(Object.keys(row!.static_headers).sort()).toEqual(['authorization', 'x-team']);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    await eventually(async () => ((await call('POST', `/a2a/${id}`, send('new'), { authorization: `Bearer ${key}` })).status === 200 ? true : undefined));
    expect(lastSeen()).toMatchObject({ authorization: `Bearer ${SECRET}`, 'x-team': 'blue' });

    expect((await call('PATCH', `/v1/agents/${id}`, { static_headers: { AUTHORIZATION: null } })).status).toBe(200);
    await eventually(async () => ((await call('POST', `/a2a/${id}`, send('none'), { authorization: `Bearer ${key}` })).status === 502 ? true : undefined));
    expect(lastSeen().authorization).toBeUndefined();
    expect(lastSeen()['x-team']).toBe('blue');
  });

  it('a row written before names were lower-cased (a sealed `Authorization`) is served, and re-sealed as `authorization` by the next change', async () => {
    const created = await call('POST', '/v1/agents', { agent_name: 'legacy', agent_card_params: card('legacy'), static_headers: { 'x-team': 'green' } });
    expect(created.status).toBe(200);
    const id = created.json.agent_id as string;
    // As the admin API sealed it then: under its given name, the name being the seal's additional data.
    const sealKey = await sealingKey(SALT);
    const old = await seal(sealKey, 'agent.static_headers.Authorization', `Bearer ${SECRET}`);
    await query(stack.db.url, `UPDATE "LiteLLM_AgentsTable" SET static_headers = $2::jsonb WHERE agent_id = $1`, [id, JSON.stringify({ Authorization: old, 'x-team': 'green' })]);
    const key = await newKey();
    await eventually(async () => ((await call('POST', `/a2a/${id}`, send('legacy'), { authorization: `Bearer ${key}` })).status === 200 ? true : undefined));
    expect(lastSeen().authorization).toBe(`Bearer ${SECRET}`);

    // A change naming another field: the stored header is opened and sealed again under its lower-cased name.
    expect((await call('PATCH', `/v1/agents/${id}`, { extra_headers: ['x-trace'] })).status).toBe(200);
    const [row] = await query<{ static_headers: Record<string, string> }>(stack.db.url, 'SELECT static_headers FROM "LiteLLM_AgentsTable" WHERE agent_id = $1', [id]);
    expect(Object.keys(row!.static_headers).sort()).toEqual(['authorization', 'x-team']);
    expect(row!.static_headers.authorization).toMatch(/^tg:v1:/);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(await unseal(sealKey, 'agent.static_headers.authorization', row!.static_headers.authorization!)).toBe(`Bearer ${SECRET}`);
    // The gateway has read the change (it shows the new extra_headers) and still sends the credential.
    await eventually(async () => ((await call('GET', `/v1/agents/${id}`)).json?.extra_headers?.[0] === 'x-trace' ? true : undefined));
    expect((await call('POST', `/a2a/${id}`, send('after'), { authorization: `Bearer ${key}`, 'x-trace': 't-9' })).status).toBe(200);
    expect(lastSeen()).toMatchObject({ authorization: `Bearer ${SECRET}`, 'x-team': 'green', 'x-trace': 't-9' });
  });
});

describe("an agent's limiter", () => {
  it('that cannot read the policy in time (its table locked) is a 503 with retry-after: 1 and a refused-call row', async () => {
    const created = await call('POST', '/v1/agents', { agent_name: 'stuck', agent_card_params: card('stuck'), static_headers: { Authorization: `Bearer ${SECRET}` }, rpm_limit: 100 });
    const id = created.json.agent_id as string;
    // Served by the gateway (its registry has read it) without its limiter yet asked.
    await eventually(async () => ((await call('GET', `/v1/agents/${id}`)).status === 200 ? true : undefined));
    const key = await newKey();
    const locker = new pg.Client({ connectionString: stack.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE "LiteLLM_AgentsTable" IN ACCESS EXCLUSIVE MODE');
      // The lock is let go after 9 s whatever happens: a limiter waiting for it unbounded answers then, not in 5 s.
      const release = setTimeout(() => void locker.query('ROLLBACK'), 9_000);
      const started = Date.now();
      const res = await call('POST', `/a2a/${id}`, send('stuck'), { authorization: `Bearer ${key}` });
      clearTimeout(release);
      expect(Date.now() - started).toBeLessThan(8_500);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json.error).toMatchObject({ type: 'service_unavailable', message: expect.stringContaining('Rate limiter for agent') });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    expect(agent.requests.filter((r) => r.body.params?.message?.parts?.[0]?.text === 'stuck')).toEqual([]);
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT status, spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = 'failure'`, [sha256(key)]);
      return found.length ? found : undefined;
    });
    expect(rows).toEqual([{ status: 'failure', spend: 0 }]);
  }, 40_000);

  it('holds a re-created agent (the same agent_id, deleted meanwhile) to its new rpm_limit from the next call', async () => {
    const id = '7d1f5c2a-0b3e-4c6d-9a8f-1e2d3c4b5a69';
    const body = (rpm: number) => ({ agent_id: id, agent_name: 'again', agent_card_params: card('again'), static_headers: { Authorization: `Bearer ${SECRET}` }, rpm_limit: rpm });
    expect((await call('POST', '/v1/agents', body(1000))).status).toBe(200);
    const key = await newKey();
    // Its limiter reads the policy (1000 a minute) on the first call.
    await eventually(async () => ((await call('POST', `/a2a/${id}`, send('first'), { authorization: `Bearer ${key}` })).status === 200 ? true : undefined));
    expect((await call('DELETE', `/v1/agents/${id}`)).status).toBe(200);
    expect((await call('POST', '/v1/agents', body(2))).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('POST', `/a2a/${id}`, send(`again ${i}`), { authorization: `Bearer ${key}` })).status);
    // At most two calls in the minute (the one before the delete may still count): the third never passes.
    expect(statuses).toContain(429);
    expect(statuses.at(-1)).toBe(429);
  });
});
