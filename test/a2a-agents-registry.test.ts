// LiteLLM's A2A agent registry: agents stored through /v1/agents (their api_key sealed, never shown, changed
// and deleted by admins only), and config.yaml's agent_list served under name and id. Calls through
// /a2a/{agent_id} are in a2a-agents-calls.test.ts; access and errors in a2a-agents-access.test.ts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AGENT_SECRET, call, card, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
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
