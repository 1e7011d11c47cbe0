// Calling A2A agents through /a2a/{agent_id} with a virtual key: message/send, message/stream as SSE (both
// billed in spend rows) and the agent's card served with the gateway's URL. Registry in
// a2a-agents-registry.test.ts; access and errors in a2a-agents-access.test.ts.
import { describe, expect, it } from 'vitest';
import { AGENT_SECRET, call, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { helperId, useRegisteredAgents } from './support/a2a-agents-registered.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

describe('calling agents through /a2a/{agent_id}', () => {
  useRegisteredAgents();

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
});
