// LiteLLM's A2A agent gateway: agents stored through /v1/agents (their api_key sealed), called through
// /a2a/{agent_id} with a virtual key (message/send, message/stream as SSE), their card served with the
// gateway's URL, access by object_permission.agents, limits and spend rows as for model calls, and the
// failures (unknown agent, agent down, agent error) as A2A's JSON-RPC errors.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeA2aAgent } from './fakes/a2a-agent.ts';
import { AGENT_SECRET, call, card, createAgent, generateKey, helper, other, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

describe('the agent registry (/v1/agents)', () => {
  it('stores an agent with its api_key sealed, never shows the key, refuses bad agents and non-admins, changes and deletes', async () => {
    const created = await call('POST', '/v1/agents', { agent_name: 'registry-agent', agent_card_params: card('Registry', helper.url), litellm_params: { api_key: AGENT_SECRET, cost_per_query: 0.25 } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ agent_name: 'registry-agent', litellm_params: { cost_per_query: 0.25 }, agent_card_params: { url: helper.url } });
    expect(created.text).not.toContain(AGENT_SECRET);
    const id = created.json.agent_id as string;
    const [row] = await query(stack.db.url, `SELECT litellm_params::text AS params FROM "LiteLLM_AgentsTable" WHERE agent_id = $1`, [id]);
    expect(row?.params).not.toContain(AGENT_SECRET);
    expect(JSON.parse(String(row?.params)).api_key).toMatch(/^tg:v1:/);

    // Listed by the gateway (an unknown id makes it read at once), the key still unseen.
    const one = await call('GET', `/v1/agents/${id}`);
    expect([one.status, one.json.agent_name, one.json.litellm_params]).toEqual([200, 'registry-agent', { cost_per_query: 0.25 }]);
    expect(one.text).not.toContain(AGENT_SECRET);
    expect((await call('GET', '/v1/agents')).json.map((a: { agent_id: string }) => a.agent_id)).toContain(id);

    // Bad input: 4xx in the error envelope, nothing written.
    const noUrl = await call('POST', '/v1/agents', { agent_name: 'no-url', agent_card_params: { name: 'x' } });
    expect([noUrl.status, noUrl.json.error.param]).toEqual([422, 'agent_card_params.url']);
    const badCost = await call('POST', '/v1/agents', { agent_name: 'bad-cost', agent_card_params: card('x', helper.url), litellm_params: { cost_per_query: -1 } });
    expect(badCost.status).toBe(422);
    const twice = await call('POST', '/v1/agents', { agent_name: 'registry-agent', agent_card_params: card('x', helper.url) });
    expect([twice.status, twice.json.error.message]).toEqual([400, 'Agent with name registry-agent already exists']);
    const key = await generateKey({});
    const refused = await call('POST', '/v1/agents', { agent_name: 'mine', agent_card_params: card('x', helper.url) }, key);
    expect([refused.status, refused.json.error.type]).toEqual([403, 'auth_error']);
    expect(await query(stack.db.url, `SELECT 1 FROM "LiteLLM_AgentsTable" WHERE agent_name IN ('no-url', 'bad-cost', 'mine')`)).toEqual([]);

    // PATCH changes what it names; the sealed key stays (and still works below).
    const patched = await call('PATCH', `/v1/agents/${id}`, { litellm_params: { cost_per_query: 0.5 } });
    expect([patched.status, patched.json.litellm_params]).toEqual([200, { cost_per_query: 0.5 }]);
    const answered = await eventually(async () => {
      const res = await call('POST', `/a2a/${id}`, send('hi'));
      return res.headers.get('x-litellm-response-cost') === '0.5' ? res : undefined;
    });
    expect(answered.json.result.parts[0].text).toBe('helper says: hi');
    const { paths } = (await call('GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(paths['/v1/agents/{agent_id}'] ?? {}).sort()).toEqual(['delete', 'patch', 'put']);
    expect((await call('PUT', `/v1/agents/nope`, { agent_name: 'nope', agent_card_params: card('x', helper.url) })).status).toBe(404);

    expect((await call('DELETE', `/v1/agents/${id}`)).status).toBe(200);
    expect((await call('DELETE', `/v1/agents/${id}`)).status).toBe(404);
    const gone = await eventually(async () => {
      const res = await call('POST', `/a2a/${id}`, send('hi'));
      return res.status === 404 ? res : undefined;
    }, 25_000);
    expect(gone.json).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32000 } });
  });
});

describe("config.yaml's agent_list", () => {
  it('serves config agents under their name and LiteLLM\'s id (sha256 of the name), their os.environ/ key resolved; the name is taken', async () => {
    const id = createHash('sha256').update('from-config').digest('hex');
    const key = await generateKey({});
    const res = await call('POST', `/a2a/${id}`, send('from yaml'), key);
    expect([res.status, res.json.result?.parts[0].text, res.headers.get('x-litellm-response-cost')]).toEqual([200, 'helper says: from yaml', '0.01']);
    expect(helper.requests.at(-1)!.headers.authorization).toBe(`Bearer ${AGENT_SECRET}`);
    expect((await call('POST', '/a2a/from-config', send('by name'), key)).status).toBe(200);
    // LiteLLM's spend-row model: a2a_agent/{agent_card_params.name or agent_id}.
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT model FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length >= 2 ? found : undefined;
    });
    expect(rows.map((r) => r.model)).toEqual(['a2a_agent/Config agent', 'a2a_agent/Config agent']);
    const listed = (await call('GET', `/v1/agents/${id}`)).json;
    expect([listed.agent_name, listed.litellm_params]).toEqual(['from-config', { cost_per_query: 0.01 }]);
    expect((await call('POST', '/v1/agents', { agent_name: 'from-config', agent_card_params: card('x', helper.url) })).status).toBe(400);
  });
});

describe('calling agents through /a2a/{agent_id}', () => {
  let helperId: string;
  let otherId: string;
  beforeAll(async () => {
    helperId = await createAgent('helper', helper.url, { api_key: AGENT_SECRET, cost_per_query: 0.05 });
    otherId = await createAgent('other', other.url, { api_key: 'other-secret-0001' });
  });

  it("message/send answers the agent's result, sent with the agent's credential, billed in a spend row", async () => {
    const key = await generateKey({});
    const res = await call('POST', `/a2a/${helperId}`, send('hello there', 'message/send', 'req-1'), key);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id: 'req-1', result: { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'helper says: hello there' }] } });
    const seen = helper.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${AGENT_SECRET}`);
    expect(JSON.stringify(seen.headers)).not.toContain(key);
    expect(seen.body).toMatchObject({ jsonrpc: '2.0', id: 'req-1', method: 'message/send' });
    // By name too, as LiteLLM looks agents up.
    expect((await call('POST', '/a2a/helper', send('by name'), key)).json.result.parts[0].text).toBe('helper says: by name');

    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT call_type, model, model_group, custom_llm_provider, spend, status, api_base, metadata FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length >= 2 ? found : undefined;
    });
    expect(rows[0]).toMatchObject({ call_type: 'asend_message', model: 'a2a_agent/helper', custom_llm_provider: 'a2a_agent', spend: 0.05, status: 'success', api_base: `/a2a/${helperId}` });
    // The agent's own address is the admin's: /spend/logs hands rows to the key that made them.
    expect(JSON.stringify(rows)).not.toContain(new URL(helper.url).host);
    expect((rows[0]?.metadata as { agent_id?: string }).agent_id).toBe(helperId);
    const spent = await eventually(async () => {
      const [row] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Number(row?.spend) >= 0.099 ? Number(row?.spend) : undefined;
    });
    expect(spent).toBeCloseTo(0.1, 6);
  });

  it('message/stream passes the agent\'s SSE events on as they come, and bills the stream', async () => {
    const key = await generateKey({});
    const res = await fetch(`${stack.url}/a2a/${helperId}`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(send('stream me', 'message/stream', 7)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as { id: number; result: Record<string, any> });
    expect(events.map((e) => [e.id, e.result.kind, e.result.status?.state ?? e.result.parts?.[0]?.text])).toEqual([
      [7, 'status-update', 'working'], [7, 'message', 'helper says: stream me'], [7, 'status-update', 'completed'],
    ]);
    expect(helper.requests.at(-1)!.headers.accept).toBe('text/event-stream');
    const [row] = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT call_type, spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length ? found : undefined;
    });
    expect(row).toMatchObject({ call_type: 'asend_message', spend: 0.05, status: 'success' });

    // A stream the agent cuts: what came, then LiteLLM's JSON-RPC error event; an unbilled failure row.
    const cut = await call('POST', `/a2a/${helperId}`, send('break please', 'message/stream', 8), key);
    const cutEvents = cut.text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, any>);
    expect(cutEvents.map((e) => e.result?.kind ?? e.error)).toEqual(['status-update', { code: -32603, message: 'Agent helper: its stream broke' }]);
    const failed = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = 'failure'`, [sha256(key)]);
      return found.length ? found : undefined;
    });
    expect(failed).toEqual([{ spend: 0, status: 'failure' }]);
  });

  it("serves the agent's card with the gateway's URL, never the agent's own", async () => {
    const key = await generateKey({});
    for (const path of ['agent-card.json', 'agent.json']) {
      const res = await call('GET', `/a2a/${helperId}/.well-known/${path}`, undefined, key);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ name: 'helper', url: `${stack.url}/a2a/${helperId}`, capabilities: { streaming: true }, skills: [{ id: 'echo' }] });
      expect(res.text).not.toContain(new URL(helper.url).host);
    }
    // A key sees agents without their own URL or params.
    const listed = (await call('GET', '/v1/agents', undefined, key)).json as { agent_id: string; agent_card_params: { url: string } }[];
    expect(listed.find((a) => a.agent_id === helperId)?.agent_card_params.url).toBe(`${stack.url}/a2a/${helperId}`);
    expect(JSON.stringify(listed)).not.toContain(new URL(helper.url).host);
  });

  it("holds a key to its object_permission.agents (none named: every agent), its team's too", async () => {
    const onlyOther = await generateKey({ object_permission: { agents: [otherId] } });
    const refused = await call('POST', `/a2a/${helperId}`, send('hi'), onlyOther);
    expect([refused.status, refused.json.error.type, refused.json.error.message]).toEqual([403, 'auth_error', `Agent '${helperId}' is not allowed for your key/team. Contact proxy admin for access.`]);
    expect((await call('GET', `/a2a/${helperId}/.well-known/agent-card.json`, undefined, onlyOther)).status).toBe(403);
    expect((await call('POST', `/a2a/${otherId}`, send('hi'), onlyOther)).json.result.parts[0].text).toBe('other says: hi');
    expect((await call('GET', '/v1/agents', undefined, onlyOther)).json.map((a: { agent_name: string }) => a.agent_name)).toEqual(['other']);
    const before = helper.requests.length;

    // A team's grant holds its keys; a key naming an agent its team does not grant reaches none.
    expect((await call('POST', '/team/new', { team_id: 'a2a-team', object_permission: { agents: ['other'] } })).status).toBe(200);
    const teamKey = await generateKey({ team_id: 'a2a-team' });
    expect((await call('POST', `/a2a/${helperId}`, send('hi'), teamKey)).status).toBe(403);
    expect((await call('POST', `/a2a/${otherId}`, send('hi'), teamKey)).status).toBe(200);
    const narrower = await generateKey({ team_id: 'a2a-team', object_permission: { agents: [helperId] } });
    expect((await call('POST', `/a2a/${helperId}`, send('hi'), narrower)).status).toBe(403);
    expect(helper.requests.length).toBe(before);
  });

  it("admits agent calls through the key's limits (rpm_limit) and allowed_routes like a model call", async () => {
    const key = await generateKey({ rpm_limit: 1 });
    expect((await call('POST', `/a2a/${otherId}`, send('one'), key)).status).toBe(200);
    const limited = await call('POST', `/a2a/${otherId}`, send('two'), key);
    expect(limited.status).toBe(429);
    expect(limited.json.error.message).toMatch(/rate limit/i);
    // allowed_routes: llm_api_routes includes the A2A routes (as MCP's), openai_routes does not.
    expect((await call('POST', `/a2a/${otherId}`, send('hi'), await generateKey({ allowed_routes: ['llm_api_routes'] }))).status).toBe(200);
    const openaiOnly = await call('POST', `/a2a/${otherId}`, send('hi'), await generateKey({ allowed_routes: ['openai_routes'] }));
    expect([openaiOnly.status, openaiOnly.json.error.message]).toEqual([401, expect.stringContaining('not allowed')]);
  });

  it('answers bad requests, unknown agents and failing agents with JSON-RPC errors; no key with the 401 envelope', async () => {
    const key = await generateKey({});
    const noKey = await fetch(`${stack.url}/a2a/${helperId}`, { method: 'POST', body: JSON.stringify(send('hi')) });
    expect([noKey.status, ((await noKey.json()) as { error: { type: string } }).error.type]).toEqual([401, 'auth_error']);
    const unknown = await call('POST', '/a2a/no-such-agent', send('hi', 'message/send', 3), key);
    expect([unknown.status, unknown.json]).toEqual([404, { jsonrpc: '2.0', id: 3, error: { code: -32000, message: "Agent 'no-such-agent' not found" } }]);
    expect((await call('GET', '/a2a/no-such-agent/.well-known/agent-card.json', undefined, key)).status).toBe(404);

    const notJson = await fetch(`${stack.url}/a2a/${helperId}`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{nope' });
    expect([notJson.status, ((await notJson.json()) as { error: { code: number } }).error.code]).toEqual([400, -32700]);
    expect((await call('POST', `/a2a/${helperId}`, { ...send('hi'), jsonrpc: '1.0' }, key)).json.error.code).toBe(-32600);
    const noMethod = await call('POST', `/a2a/${helperId}`, { ...send('hi'), method: 'agent/dance' }, key);
    expect([noMethod.status, noMethod.json.error]).toEqual([400, { code: -32601, message: "Method 'agent/dance' not found" }]);
    expect((await call('POST', `/a2a/${helperId}`, { jsonrpc: '2.0', id: 1, method: 'message/send', params: {} }, key)).json.error.code).toBe(-32602);

    // The agent's own JSON-RPC error is its answer, passed on and not billed; a 500 page is not shown.
    const exploded = await call('POST', `/a2a/${helperId}`, send('please explode'), key);
    expect([exploded.status, exploded.json.error]).toEqual([200, { code: -32603, message: 'the agent exploded' }]);
    const crashed = await call('POST', `/a2a/${helperId}`, send('crash now'), key);
    expect([crashed.status, crashed.json.error]).toEqual([502, { code: -32603, message: 'Agent helper answered HTTP 500 without a JSON-RPC response' }]);
    expect(crashed.text).not.toContain('/srv/agent.py');

    // An agent that is down: a clear 502, for a stream too.
    const down = await startFakeA2aAgent({ name: 'down', bearer: 'x' });
    const downId = await createAgent('down', down.url);
    await down.close();
    for (const method of ['message/send', 'message/stream']) {
      const res = await call('POST', `/a2a/${downId}`, send('anyone?', method), key);
      expect([res.status, res.json]).toEqual([502, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Agent down is unreachable' } }]);
    }
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT model, spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = 'failure' ORDER BY "startTime"`, [sha256(key)]);
      return found.length >= 4 ? found : undefined;
    });
    expect(rows.map((r) => [r.model, r.spend])).toEqual([['a2a_agent/helper', 0], ['a2a_agent/helper', 0], ['a2a_agent/down', 0], ['a2a_agent/down', 0]]);
  });
});
