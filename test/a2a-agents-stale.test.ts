import { describe, expect, it } from 'vitest';
import { query } from './support/pg-client.ts';
import { call, createAgent, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';

// A gateway isolate whose last read of the stored A2A agents failed (Postgres down, the table unreadable) answers
// from the list it has for 2 s only: after that, and once its list is over 15 s old, a request waits for a fresh
// read, so an agent deleted meanwhile is not called.
useA2aStack();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const listed = async () => ((await call('GET', '/v1/agents')).json as { agent_name: string }[]).map((a) => a.agent_name);

describe('stored A2A agents after a failed read', () => {
  it('does not keep a deleted agent callable from a list left old by a failed read', async () => {
    const id = await createAgent('doomed-agent', helper.url);
    expect(await listed()).toContain('doomed-agent');
    const loadedBy = Date.now();

    // The next read (started by a request 2 s on, in the background) fails; then the table is readable again and the agent deleted.
    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_AgentsTable" RENAME COLUMN agent_card_params TO card_away');
    await sleep(2_200);
    expect(await listed()).toContain('doomed-agent');
    // Time for that read to fail on a loaded machine; the list (read at 0 s) is still well short of 15 s old here (~6 s).
    await sleep(4_000);
    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_AgentsTable" RENAME COLUMN card_away TO agent_card_params');
    expect((await call('DELETE', `/v1/agents/${id}`)).status).toBe(200);

    // Idle past the 15 s a list may be used unread: the call waits for a fresh read and finds no such agent.
    await sleep(loadedBy + 16_000 - Date.now());
    const res = await call('POST', `/a2a/${id}`, send('hi', 'message/send', 7));
    expect([res.status, res.json]).toEqual([404, { jsonrpc: '2.0', id: 7, error: { code: -32000, message: `Agent '${id}' not found` } }]);
    expect(await listed()).not.toContain('doomed-agent');
  }, 30_000);
});
