// A2A tasks a stream hands out are the caller's, end to end through workerd with the fake A2A agents: recorded
// before the event naming them reaches the client, whatever comes first (a `: ping` comment, a `retry:` block, an
// event over 64 KB, a Message naming no task yet); and what the owner's tasks/* answers name is recorded (renewed)
// too. Non-streamed calls in a2a-agents-task-owners.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { call, generateKey, helper, send, stack, useA2aStack } from './support/a2a-stack.ts';
import { helperId, useRegisteredAgents } from './support/a2a-agents-registered.ts';

useA2aStack();

const NOT_FOUND = (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: -32001, message: 'Task not found' } });
const rpc = (method: string, params: unknown, id: unknown = 9) => ({ jsonrpc: '2.0', id, method, params });

/** A stream opened with `key`: read event by event (`next` gives each SSE block's text). */
async function open(text: string, key: string) {
  const res = await fetch(`${stack.url}/a2a/${helperId}`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(send(text, 'message/stream', 3)),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    all: '' as string,
    /** The next event carrying data, parsed (blocks before it kept in `all`). */
    async next(this: { all: string }): Promise<Record<string, any> | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.all += `${block}\n\n`;
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) return JSON.parse(data) as Record<string, any>;
          continue;
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, '\n');
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('A2A streamed tasks are their creator\'s', () => {
  useRegisteredAgents();
  let keyA: string;
  let keyA2: string;
  let keyB: string;

  beforeAll(async () => {
    for (const team_id of ['streams-t1', 'streams-t2']) expect((await call('POST', '/team/new', { team_id })).status).toBe(200);
    [keyA, keyA2, keyB] = await Promise.all([generateKey({ team_id: 'streams-t1' }), generateKey({ team_id: 'streams-t1' }), generateKey({ team_id: 'streams-t2' })]);
  });

  it("records a streamed task's owner before its first event reaches the client", async () => {
    const stream = await open('slow stream', keyA);
    const first = await stream.next();
    const { taskId, contextId } = first!.result as { taskId: string; contextId: string };
    expect(taskId).toMatch(/^t-/);
    // Right away, while the stream still runs: the teammate reads it, the other team is refused. (That the event waits
    // for its record, not merely races it, a2a-agents-task-owners.test.ts shows: a stream naming another's task is cut
    // before that event goes out, which only a record made first can do.)
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA2)).json.result.id).toBe(taskId);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyB)).json).toEqual(NOT_FOUND(9));
    expect((await call('POST', `/a2a/${helperId}`, rpc('message/send', { message: { role: 'user', messageId: 'j', parts: [{ kind: 'text', text: 'join' }], contextId } }), keyB)).json).toEqual(NOT_FOUND(9));
    await stream.cancel();
  });

  for (const [start, why] of [['ping-first', 'a `: ping` comment and a `retry:` block first'], ['big-first', 'a first event over 64 KB'], ['crlf', 'CRLF line ends']] as const) {
    it(`records the task of a stream with ${why}, the blocks passed on`, async () => {
      const stream = await open(start, keyA);
      const first = await stream.next();
      const taskId = first!.result.taskId as string;
      expect(taskId).toMatch(/^t-/);
      if (start === 'ping-first') expect(stream.all.startsWith(': ping\n\nretry: 1000\n\n')).toBe(true);
      if (start === 'big-first') expect(first!.result.metadata.pad).toHaveLength(100 * 1024);
      expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA2)).json.result.id).toBe(taskId);
      while (await stream.next());
    });
  }

  it('records a task a later event names, after a first Message naming none', async () => {
    const stream = await open('late-task', keyA);
    const first = await stream.next();
    expect(first!.result).toMatchObject({ kind: 'message', messageId: 'm-first' });
    expect(first!.result.taskId).toBeUndefined();
    const second = await stream.next();
    const taskId = second!.result.taskId as string;
    expect(taskId).toMatch(/^t-/);
    expect((await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA2)).json.result.id).toBe(taskId);
    const rest: unknown[] = [];
    for (let e = await stream.next(); e; e = await stream.next()) rest.push(e);
    expect(rest.length).toBe(2);
    expect(helper.requests.at(-1)!.body.method).toBe('tasks/get');
  });

  it("records (and so renews) what the owner's tasks/* answers name, as message answers do", async () => {
    const stream = await open('stream', keyA);
    const taskId = (await stream.next())!.result.taskId as string;
    while (await stream.next());
    // The fake's tasks/get answer names a context of its own: recorded as the reader's team's before the answer goes.
    const read = await call('POST', `/a2a/${helperId}`, rpc('tasks/get', { id: taskId }), keyA);
    const contextId = read.json.result.contextId as string;
    const join = (key: string) => call('POST', `/a2a/${helperId}`, rpc('message/send', { message: { role: 'user', messageId: 'j', parts: [{ kind: 'text', text: 'join' }], contextId } }), key);
    expect((await join(keyA2)).json.result.contextId).toBe(contextId);
    expect((await join(keyB)).json).toEqual(NOT_FOUND(9));
  });
});
