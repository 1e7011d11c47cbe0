// The A2A gateway's guards around an agent's answer and its stored credentials: a stream may outlive
// request_timeout (the deadline is until its first chunk), a JSON-RPC error as a stream's first event is not
// billed, redirects are not followed, oversized answers are refused, unpriced agents still hold a key to its
// budget, and credentials nested in litellm_params are sealed and never shown.
import { beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, call, card, createAgent, generateKey, helper, other, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

describe('agent answers and stored credentials, guarded', () => {
  let helperId: string;
  let otherId: string;
  beforeAll(async () => {
    helperId = await createAgent('helper', helper.url, { api_key: AGENT_SECRET, cost_per_query: 0.05 });
    otherId = await createAgent('other', other.url, { api_key: 'other-secret-0001' });
  });

  it('a stream longer than request_timeout (2 s) passes whole: the deadline is until its first chunk', async () => {
    const key = await generateKey({});
    const res = await call('POST', `/a2a/${helperId}`, send('slow please', 'message/stream', 9), key);
    expect(res.status).toBe(200);
    const events = res.text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, any>);
    expect(events.map((e) => e.result?.kind ?? e.error)).toEqual(['status-update', 'message', 'status-update', 'status-update']);
    const [row] = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length ? found : undefined;
    });
    expect(row).toEqual({ spend: 0.05, status: 'success' });
  });

  it('a JSON-RPC error as the first stream event is passed on and not billed; a redirect is not followed; an oversized answer is refused', async () => {
    const key = await generateKey({});
    const errored = await call('POST', `/a2a/${helperId}`, send('sse-error', 'message/stream', 4), key);
    expect(errored.status).toBe(200);
    expect(JSON.parse(errored.text.trim().slice(6))).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32603, message: 'the stream exploded' } });

    const before = helper.requests.length;
    const redirected = await call('POST', `/a2a/${helperId}`, send('redirect me'), key);
    expect([redirected.status, redirected.json.error]).toEqual([502, { code: -32603, message: 'Agent helper answered HTTP 307 (a redirect, not followed)' }]);
    expect(helper.requests.slice(before).map((r) => r.url)).toEqual(['/']);

    const huge = await call('POST', `/a2a/${helperId}`, send('huge answer'), key);
    expect([huge.status, huge.json.error]).toEqual([502, { code: -32603, message: 'Agent helper: answer too large' }]);

    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length >= 3 ? found : undefined;
    });
    expect(rows).toEqual([{ spend: 0, status: 'failure' }, { spend: 0, status: 'failure' }, { spend: 0, status: 'failure' }]);
  });

  it('refuses a key over its budget even an agent without a price, and task reads', async () => {
    const key = await generateKey({ max_budget: 0.01 });
    expect((await call('POST', `/a2a/${helperId}`, send('spend it'), key)).status).toBe(200);
    const refused = await eventually(async () => {
      const res = await call('POST', `/a2a/${otherId}`, send('free one'), key);
      return res.status === 429 ? res : undefined;
    });
    expect(refused.json.error.type).toBe('budget_exceeded');
    const task = await call('POST', `/a2a/${otherId}`, { jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { id: 't-1' } }, key);
    expect(task.status).toBe(429);
  });

  it('seals and hides credentials nested in litellm_params (headers, oauth), and still opens them', async () => {
    const params = { api_key: 'nested-agent-key-1', headers: { Authorization: 'Bearer nested-secret-hdr', 'x-plain': 'ok' }, databricks_oauth: { client_id: 'cid', client_secret: 'nested-secret-oauth' } };
    const created = await call('POST', '/v1/agents', { agent_name: 'nested', agent_card_params: card('nested', other.url), litellm_params: { ...params, api_key: 'other-secret-0001' } });
    expect(created.status).toBe(200);
    expect(created.json.litellm_params).toEqual({ headers: { 'x-plain': 'ok' }, databricks_oauth: { client_id: 'cid' } });
    expect(created.text).not.toMatch(/nested-secret|other-secret/);
    const id = created.json.agent_id as string;
    const [row] = await query(stack.db.url, `SELECT litellm_params::text AS params FROM "LiteLLM_AgentsTable" WHERE agent_id = $1`, [id]);
    expect(row?.params).not.toContain('nested-secret');
    expect(JSON.parse(String(row?.params)).headers.Authorization).toMatch(/^tg:v1:/);
    const audit = await query(stack.db.url, `SELECT before_value, updated_values FROM "LiteLLM_AuditLog" WHERE object_id = $1`, [id]);
    expect(JSON.stringify(audit)).not.toContain('nested-secret');
    const listed = await eventually(async () => {
      const res = await call('GET', `/v1/agents/${id}`);
      return res.status === 200 ? res : undefined;
    });
    expect(listed.json.litellm_params).toEqual({ headers: { 'x-plain': 'ok' }, databricks_oauth: { client_id: 'cid' } });
    // The row opens (a wrongly sealed nested value would leave the agent unserved).
    expect((await call('POST', `/a2a/${id}`, send('nested'))).json.result.parts[0].text).toBe('other says: nested');
  });
});
