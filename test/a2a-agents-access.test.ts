// Who may call A2A agents and how calls fail: access by object_permission.agents (key and team), the key's
// limits and allowed_routes as for model calls, and the failures (bad request, unknown agent, agent down,
// agent error) as A2A's JSON-RPC errors with unbilled spend rows. Registry in a2a-agents-registry.test.ts;
// calls in a2a-agents-calls.test.ts.
import { describe, expect, it } from 'vitest';
import { startFakeA2aAgent } from './fakes/a2a-agent.ts';
import { call, createAgent, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { helperId, otherId, useRegisteredAgents } from './support/a2a-agents-registered.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

describe('calling agents through /a2a/{agent_id}', () => {
  useRegisteredAgents();

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
