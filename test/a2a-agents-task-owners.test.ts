// A2A tasks tied to the caller that started them, end to end through workerd with the fake A2A agents: a task
// (and its context) is its creator's team's (else user's, else key's); another team's key gets A2A's
// TaskNotFoundError for every way of naming it (camelCase or snake_case), the agent never asked, and never an answer
// naming it; teammates, proxy admins and the master key reach it. Streams: a2a-agents-task-owner-streams.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { helperId, otherId, useRegisteredAgents } from './support/a2a-agents-registered.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

useA2aStack();

const NOT_FOUND = (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: -32001, message: 'Task not found' } });
const rpc = (method: string, params: unknown, id: unknown = 9) => ({ jsonrpc: '2.0', id, method, params });
const message = (text: string, extra: Record<string, unknown>) => ({ role: 'user', messageId: `u-${Math.random()}`, parts: [{ kind: 'text', text }], ...extra });

/** A streamed call: its status, content type and the JSON of each SSE event. */
async function streamed(path: string, body: unknown, key: string) {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, events: text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, any>) };
}

describe('A2A tasks are their creator\'s', () => {
  useRegisteredAgents();
  let keyA: string;
  let keyA2: string;
  let keyB: string;

  beforeAll(async () => {
    for (const team_id of ['owners-t1', 'owners-t2']) expect((await call('POST', '/team/new', { team_id, team_alias: `alias-${team_id}` })).status).toBe(200);
    [keyA, keyA2, keyB] = await Promise.all([generateKey({ team_id: 'owners-t1' }), generateKey({ team_id: 'owners-t1' }), generateKey({ team_id: 'owners-t2' })]);
  });

  it("answers another team's key TaskNotFound for tasks/get, cancel, resubscribe and follow-ups, without asking the agent", async () => {
    const created = await call('POST', `/a2a/${helperId}`, send('start a task'), keyA);
    expect(created.status).toBe(200);
    expect(created.json.result).toMatchObject({ kind: 'task', status: { state: 'input-required' } });
    const { id: taskId, contextId } = created.json.result as { id: string; contextId: string };

    const before = helper.requests.length;
    for (const method of ['tasks/get', 'tasks/cancel', 'GetTask', 'CancelTask']) {
      const res = await call('POST', `/a2a/${helperId}`, rpc(method, { id: taskId }, `b-${method}`), keyB);
      expect([res.status, res.json], method).toEqual([200, NOT_FOUND(`b-${method}`)]);
      // Nothing of the owner shows: not its team, alias or key.
      expect(res.text).not.toMatch(/owners-t1|alias-|team/);
    }
    for (const method of ['tasks/resubscribe', 'SubscribeToTask']) {
      const res = await streamed(`/a2a/${helperId}`, rpc(method, { id: taskId }, 'r'), keyB);
      expect([res.status, res.type, res.events]).toEqual([200, expect.stringContaining('text/event-stream'), [NOT_FOUND('r')]]);
    }
    // A message continuing the task, joining its context, or referencing it.
    for (const extra of [{ taskId }, { contextId }, { referenceTaskIds: [taskId] }, { taskId, contextId }]) {
      const res = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('let me in', extra) }, 'm'), keyB);
      expect([res.status, res.json], JSON.stringify(extra)).toEqual([200, NOT_FOUND('m')]);
      const stream = await streamed(`/a2a/${helperId}`, rpc('message/stream', { message: message('let me in', extra) }, 's'), keyB);
      expect(stream.events, JSON.stringify(extra)).toEqual([NOT_FOUND('s')]);
    }
    expect(helper.requests.length).toBe(before);
    // The same agent's task is no other agent's: the owner's id on another agent is unknown there.
    expect((await call('POST', `/a2a/${otherId}`, rpc('tasks/get', { id: taskId }), keyA)).json).toEqual(NOT_FOUND(9));

    // Refusals are logged as unbilled failures of the caller's key.
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT spend, status FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(keyB)]);
      return found.length >= 14 ? found : undefined;
    });
    expect(rows.every((r) => r.spend === 0 && r.status === 'failure')).toBe(true);

    // The owner's teammate, a proxy admin and the master key reach it; so does the owner, continuing it.
    const mate = await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA2);
    expect(mate.json.result).toMatchObject({ kind: 'task', id: taskId, artifacts: [{ parts: [{ text: `the secret result of ${taskId}` }] }] });
    expect(helper.requests.at(-1)!.body).toMatchObject({ method: 'tasks/get', params: { id: taskId } });
    expect((await call('POST', '/user/new', { user_id: 'owners-root', user_role: 'proxy_admin' })).status).toBe(200);
    const adminKey = await generateKey({ user_id: 'owners-root' });
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), adminKey)).json.result.id).toBe(taskId);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }))).json.result.id).toBe(taskId);
    const onward = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('go on', { taskId, contextId }) }), keyA2);
    expect(onward.json.result).toMatchObject({ kind: 'task', id: taskId, contextId });
    const resub = await streamed(`/a2a/${helperId}`, rpc('tasks/resubscribe', { id: taskId }, 'r'), keyA);
    expect(resub.events.map((e) => e.result?.status?.state)).toEqual(['working', 'completed']);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/cancel', { id: taskId }), keyA)).json.result.status.state).toBe('canceled');
    // Another team's key still cannot, after all that.
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyB)).json).toEqual(NOT_FOUND(9));
  });

  it('refuses ids the gateway never saw to keys (not to the master key), contexts as tasks; a new conversation\'s context is its caller\'s', async () => {
    const before = helper.requests.length;
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: 'made-before-owners' }), keyA)).json).toEqual(NOT_FOUND(9));
    expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('hi', { taskId: 'made-before-owners' }) }), keyA)).json).toEqual(NOT_FOUND(9));
    // A context no answer recorded (made before owners were kept, expired, or made up) is no key's to join.
    const madeUp = `client-made-${Math.random()}`;
    for (const extra of [{ contextId: madeUp }, { context_id: madeUp }]) {
      expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('hello', extra) }), keyA)).json, JSON.stringify(extra)).toEqual(NOT_FOUND(9));
    }
    expect(helper.requests.length).toBe(before);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: 'made-before-owners' }))).json.result.id).toBe('made-before-owners');
    expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('hello', { contextId: madeUp }) }))).json.result.contextId).toBe(madeUp);

    // A key without a team owns what it starts alone: another team-less key is refused.
    const [loneA, loneB] = await Promise.all([generateKey({}), generateKey({})]);
    const first = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('hello', {}) }), loneA);
    expect(first.json.result).toMatchObject({ kind: 'message', contextId: expect.stringMatching(/^ctx-/) });
    const ctx = first.json.result.contextId as string;
    expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('me too', { contextId: ctx }) }), loneB)).json).toEqual(NOT_FOUND(9));
    expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('again', { contextId: ctx }) }), loneA)).json.result.contextId).toBe(ctx);

    // Too many referenced tasks (in either spelling), or an id longer than any recorded: a bad request, nothing sent.
    const sent = helper.requests.length;
    const refs = Array.from({ length: 15 }, (_, i) => `t${i}`);
    for (const extra of [{ referenceTaskIds: refs }, { reference_task_ids: refs }, { contextId: 'c'.repeat(1025) }, { task_id: 't'.repeat(1025) }]) {
      const bad = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('x', extra) }), keyA);
      expect([bad.status, bad.json.error.code], Object.keys(extra)[0]).toEqual([400, -32602]);
    }
    expect(helper.requests.length).toBe(sent);
  });

  it("withholds an answer naming another owner's task, even one the request did not name", async () => {
    const created = await call('POST', `/a2a/${helperId}`, send('start a task'), keyA);
    const taskId = created.json.result.id as string;
    // The agent (a2a-sdk reads snake_case by name) would continue A's task: refused before it is asked.
    const before = helper.requests.length;
    for (const extra of [{ task_id: taskId }, { context_id: created.json.result.contextId }, { reference_task_ids: [taskId] }]) {
      const res = await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: message('let me in', extra) }), keyB);
      expect([res.status, res.json], JSON.stringify(extra)).toEqual([200, NOT_FOUND(9)]);
    }
    expect(helper.requests.length).toBe(before);
    // An agent that hands B's call A's task anyway: B gets TaskNotFound, never the task; a stream is cut before its first event.
    const adopted = await call('POST', `/a2a/${helperId}`, send(`adopt:${taskId}`), keyB);
    expect([adopted.status, adopted.json]).toEqual([200, NOT_FOUND(1)]);
    expect(adopted.text).not.toContain(taskId);
    const stream = await streamed(`/a2a/${helperId}`, send(`adopt:${taskId}`, 'message/stream', 's'), keyB);
    expect(stream.events).toEqual([NOT_FOUND('s')]);
    expect(stream.text).not.toContain(taskId);
    expect(helper.requests.length).toBe(before + 2);
    // A's task stays A's.
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA2)).json.result.id).toBe(taskId);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyB)).json).toEqual(NOT_FOUND(9));
  });

  it('answers 503 rather than an answer whose context it cannot record', async () => {
    const res = await call('POST', `/a2a/${helperId}`, send('long-context'), keyA);
    expect([res.status, res.json.error?.code]).toEqual([503, -32603]);
    expect(res.text).not.toContain('ccccc');
  });

  it("answers 503 with a failure row when a refused key's role cannot be read", async () => {
    expect((await call('POST', '/user/new', { user_id: 'owners-plain' })).status).toBe(200);
    const key = await generateKey({ user_id: 'owners-plain' });
    // The key's policy cached by a first call; then the users' table is unreadable for the role check.
    expect((await call('POST', `/a2a/${helperId}`, send('hello'), key)).status).toBe(200);
    await query(stack.db.url, 'ALTER TABLE "LiteLLM_UserTable" RENAME TO "LiteLLM_UserTable_away"');
    let res;
    try {
      res = await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: 'not-this-keys' }), key);
    } finally {
      await query(stack.db.url, 'ALTER TABLE "LiteLLM_UserTable_away" RENAME TO "LiteLLM_UserTable"');
    }
    expect([res.status, res.json.error?.type, res.headers.get('retry-after')]).toEqual([503, 'service_unavailable', '1']);
    expect(res.json.error.message).toBe('The A2A task store is unavailable; retry shortly');
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT status FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = 'failure'`, [sha256(key)]);
      return found.length ? found : undefined;
    });
    expect(rows).toHaveLength(1);
  });
});
