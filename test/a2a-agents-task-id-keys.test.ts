// A2A ids in spellings lenient agents read, end to end through workerd with the fake A2A agent: a2a-go (Go's
// encoding/json) matches `ID` and `TaskId` as `id` and `taskId`, and kagent's go-adk takes a session from
// `message.metadata`. Another team's key cannot reach a task through them: a task method's params are rebuilt from
// the checked `id`, a message's stray id-like keys are a -32602, metadata session keys are checked as the context,
// a task method's numeric id is the task of that text, and an id that is no string or number is a -32602 rather than
// a 500. Owners themselves: a2a-agents-task-owners.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { helperId, useRegisteredAgents } from './support/a2a-agents-registered.ts';
import { sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

const NOT_FOUND = (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: -32001, message: 'Task not found' } });
const rpc = (method: string, params: unknown, id: unknown = 9) => ({ jsonrpc: '2.0', id, method, params });
const message = (text: string, extra: Record<string, unknown>) => ({ role: 'user', messageId: `u-${Math.random()}`, parts: [{ kind: 'text', text }], ...extra });

describe('A2A ids in spellings the gateway does not check', () => {
  useRegisteredAgents();
  let keyA: string;
  let keyB: string;
  let taskA: string;
  let contextA: string;
  let taskB: string;

  beforeAll(async () => {
    for (const team_id of ['idkeys-t1', 'idkeys-t2']) expect((await call('POST', '/team/new', { team_id })).status).toBe(200);
    [keyA, keyB] = await Promise.all([generateKey({ team_id: 'idkeys-t1' }), generateKey({ team_id: 'idkeys-t2' })]);
    const a = await call('POST', `/a2a/${helperId}`, send('start a task'), keyA);
    ({ id: taskA, contextId: contextA } = a.json.result as { id: string; contextId: string });
    taskB = (await call('POST', `/a2a/${helperId}`, send('start a task'), keyB)).json.result.id as string;
  });

  it("sends a task method only the checked id: an `ID` naming another team's task never reaches the agent", async () => {
    for (const method of ['tasks/cancel', 'tasks/get']) {
      const res = await call('POST', `/a2a/${helperId}`, rpc(method, { id: taskB, ID: taskA, Id: taskA, historyLength: 2, metadata: { note: 'n' } }), keyB);
      expect(res.status).toBe(200);
      expect(res.json.result.id).toBe(taskB);
      // What a Go agent would have read as the id (the last key matching "id" without case) is not sent.
      expect(helper.requests.at(-1)!.body.params).toEqual({ id: taskB, historyLength: 2, metadata: { note: 'n' } });
    }
    // A task method's metadata naming a context is a bad request.
    const bad = await call('POST', `/a2a/${helperId}`, rpc('tasks/cancel', { id: taskB, metadata: { contextId: contextA } }), keyB);
    expect([bad.status, bad.json.error.code]).toEqual([400, -32602]);
  });

  it('refuses a message carrying an id in another spelling (-32602), the agent not asked, nothing recorded', async () => {
    const before = helper.requests.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ message: message('join', { TaskId: taskA }) }, 'params.message.TaskId'],
      [{ message: message('join', { CONTEXTID: contextA }) }, 'params.message.CONTEXTID'],
      [{ message: message('join', {}), ID: taskA }, 'params.ID'],
      [{ message: message('join', {}), Message: message('join', { taskId: taskA }) }, 'params.Message'],
      [{ message: message('join', { metadata: { session_id: contextA } }) }, 'params.message.metadata.session_id'],
      [{ message: message('join', { Metadata: { contextId: contextA } }) }, 'params.message.Metadata'],
    ];
    for (const [params, where] of cases) {
      const res = await call('POST', `/a2a/${helperId}`, rpc('message/send', params), keyB);
      expect([res.status, res.json.error?.code, res.json.error?.message], where).toEqual([400, -32602, expect.stringContaining(where)]);
    }
    expect(helper.requests.length).toBe(before);
  });

  it("checks kagent's metadata session keys as the message's context", async () => {
    const before = helper.requests.length;
    for (const key of ['contextId', 'context_id', 'kagent_session_id']) {
      const res = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('join', { metadata: { [key]: contextA } }) }), keyB);
      expect([res.status, res.json], key).toEqual([200, NOT_FOUND(9)]);
    }
    expect(helper.requests.length).toBe(before);
    // The owner's own context in metadata passes, sent as it came.
    const own = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('hello', { metadata: { kagent_session_id: contextA } }) }), keyA);
    expect(own.status).toBe(200);
    expect(helper.requests.at(-1)!.body.params?.message).toMatchObject({ metadata: { kagent_session_id: contextA } });
  });

  it("takes a task method's numeric params.id as the task of that text, held to its owner", async () => {
    // A task whose id the agent wrote as digits: a JSON-RPC client may name it as a number.
    const digits = String(Date.now());
    const made = await call('POST', `/a2a/${helperId}`, send(`task adopt:${digits}`), keyA);
    expect(made.json.result).toMatchObject({ kind: 'task', id: digits });
    const own = await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: Number(digits) }), keyA);
    expect(own.status).toBe(200);
    expect(own.json.result).toMatchObject({ kind: 'task', status: { state: 'completed' } });
    expect(helper.requests.at(-1)!.body.params).toEqual({ id: Number(digits) });
    // Another team's key naming it as a number gets the unknown task's answer, the agent not asked.
    const before = helper.requests.length;
    for (const method of ['tasks/get', 'tasks/cancel']) {
      const res = await call('POST', `/a2a/${helperId}`, rpc(method, { id: Number(digits) }), keyB);
      expect([res.status, res.json], method).toEqual([200, NOT_FOUND(9)]);
    }
    expect(helper.requests.length).toBe(before);
    // Neither a string nor a number: still a -32602.
    const bad = await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: [digits] }), keyA);
    expect([bad.status, bad.json.error?.code]).toEqual([400, -32602]);
  });

  it('answers an id that is no string or number with -32602, not a 500', async () => {
    const before = helper.requests.length;
    const rows = async () => (await query(stack.db.url, `SELECT 1 FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(keyB)])).length;
    const spent = await rows();
    for (const extra of [{ taskId: { toString: 'x' } }, { referenceTaskIds: [{ toString: 1 }] }, { contextId: { id: contextA } }, { task_id: true }]) {
      const res = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('x', extra) }), keyB);
      expect([res.status, res.json], JSON.stringify(extra)).toEqual([400, { jsonrpc: '2.0', id: 9, error: { code: -32602, message: expect.stringMatching(/^Invalid params: message\.\w+(\[0\])? must be a string or a number$/) } }]);
    }
    expect(helper.requests.length).toBe(before);
    expect(await rows()).toBe(spent);
  });
});
