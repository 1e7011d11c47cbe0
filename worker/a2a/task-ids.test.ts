// Where A2A 0.3 and 1.0 requests and answers name tasks and contexts: what the gateway records as the caller's
// and checks against its owner (task-owners.ts). End to end in test/a2a-agents-task-owners.test.ts.
import { describe, expect, it } from 'vitest';
import { answerIds, namedIds, referencedCount } from './task-ids.ts';

describe('answerIds', () => {
  it("reads a task's id, a message's or an update's taskId, and their contextId, in 0.3's and 1.0's shapes", () => {
    expect(answerIds({ kind: 'task', id: 't1', contextId: 'c1', status: { state: 'working' } })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ task: { id: 't1', contextId: 'c1' } })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ kind: 'message', messageId: 'm1', contextId: 'c1', taskId: 't1' })).toEqual({ taskId: 't1', contextId: 'c1' });
    // A message without a task: its id is no task's.
    expect(answerIds({ message: { messageId: 'm1', contextId: 'c1' } })).toEqual({ contextId: 'c1' });
    expect(answerIds({ kind: 'status-update', taskId: 't1', contextId: 'c1' })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ statusUpdate: { taskId: 't1', contextId: 'c1' } })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ artifactUpdate: { taskId: 't1', contextId: 'c1', artifact: { artifactId: 'a1' } } })).toEqual({ taskId: 't1', contextId: 'c1' });
    // An agent writing field names (snake_case) hands out the same ids.
    expect(answerIds({ kind: 'message', message_id: 'm1', context_id: 'c1', task_id: 't1' })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ kind: 'task', id: 't1', context_id: 'c1' })).toEqual({ taskId: 't1', contextId: 'c1' });
    // A2A 1.0's wrappers by field name (ProtoJSON's snake_case) name them too.
    expect(answerIds({ status_update: { task_id: 't1', context_id: 'c1', status: { state: 'working' } } })).toEqual({ taskId: 't1', contextId: 'c1' });
    expect(answerIds({ artifact_update: { taskId: 't2', contextId: 'c2', artifact: { artifactId: 'a1' } } })).toEqual({ taskId: 't2', contextId: 'c2' });
    expect(answerIds(null)).toEqual({});
    expect(answerIds('text')).toEqual({});
  });
});

describe('namedIds', () => {
  it("names a task method's id, and a message's task, referenced tasks and context", () => {
    expect(namedIds('tasks/get', { id: 't1' })).toEqual({ tasks: ['t1'], contexts: [] });
    expect(namedIds('message/send', { message: { parts: [], taskId: 't1', referenceTaskIds: ['t2', 't3'], contextId: 'c1' } })).toEqual({ tasks: ['t1', 't2', 't3'], contexts: ['c1'] });
    // A number is named as its text (an agent may read it so); a new message names nothing.
    expect(namedIds('message/stream', { message: { parts: [], taskId: 7 } })).toEqual({ tasks: ['7'], contexts: [] });
    expect(namedIds('message/send', { message: { parts: [] } })).toEqual({ tasks: [], contexts: [] });
  });

  it('names ids in every spelling an agent reads: snake_case field names, and A2A 1.0\'s `request` field', () => {
    // The a2a-python SDK (validate_by_name) and ProtoJSON take task_id / context_id / reference_task_ids as well.
    expect(namedIds('message/send', { message: { parts: [], task_id: 't1', reference_task_ids: ['t2'], context_id: 'c1' } })).toEqual({ tasks: ['t1', 't2'], contexts: ['c1'] });
    expect(namedIds('message/send', { message: { parts: [], taskId: 't1', task_id: 't9' } }).tasks).toEqual(['t1', 't9']);
    expect(namedIds('message/send', { message: { parts: [] }, request: { parts: [], taskId: 't3', contextId: 'c3' } })).toEqual({ tasks: ['t3'], contexts: ['c3'] });
    expect(referencedCount({ message: { parts: [], referenceTaskIds: ['a', 'b'], reference_task_ids: ['c'] } })).toBe(3);
  });
});

describe('namedIds: ids that are no string or number', () => {
  it('marks them invalid (a -32602), never turning them into text', () => {
    // String({toString: 'x'}) throws: such a value must not reach String().
    const trap = { toString: 'x' };
    expect(namedIds('message/send', { message: { parts: [], taskId: trap } })).toMatchObject({ invalid: 'message.taskId' });
    expect(namedIds('message/send', { message: { parts: [], referenceTaskIds: ['t1', { toString: 1 }] } })).toMatchObject({ invalid: 'message.referenceTaskIds[1]' });
    expect(namedIds('message/send', { message: { parts: [], context_id: { id: 'c1' } } })).toMatchObject({ invalid: 'message.context_id' });
    expect(namedIds('message/send', { message: { parts: [], taskId: true } })).toMatchObject({ invalid: 'message.taskId' });
    expect(namedIds('tasks/get', { id: trap })).toMatchObject({ invalid: 'params.id' });
    expect(namedIds('message/send', { message: { parts: [], taskId: 't1' } }).invalid).toBeUndefined();
  });

  it("names kagent's session keys in message.metadata as the message's context", () => {
    for (const key of ['contextId', 'context_id', 'kagent_session_id']) {
      expect(namedIds('message/send', { message: { parts: [], metadata: { [key]: 'c9' } } }), key).toEqual({ tasks: [], contexts: ['c9'] });
    }
  });
});
