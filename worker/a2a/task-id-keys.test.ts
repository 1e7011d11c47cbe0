// What of a client's A2A params reaches the agent (task-id-keys.ts): id-like keys in spellings lenient agents read
// (a2a-go matches keys whatever their case; kagent reads metadata session keys) are refused or dropped. End to end in
// test/a2a-agents-task-owners.test.ts.
import { describe, expect, it } from 'vitest';
import { foldedKey, strayIdKey, taskMetadataStray, taskParams } from './task-id-keys.ts';

describe('strayIdKey', () => {
  it('passes the spellings the gateway checks', () => {
    expect(strayIdKey({ message: { parts: [], messageId: 'm1', taskId: 't', task_id: 't', referenceTaskIds: [], reference_task_ids: [], contextId: 'c', context_id: 'c', metadata: { contextId: 'c', context_id: 'c', kagent_session_id: 'c', user: 'u' } }, configuration: {}, metadata: { trace: 1 } })).toBeUndefined();
  });

  it('refuses other spellings of ids, and of the objects holding them', () => {
    expect(strayIdKey({ message: { parts: [], TaskId: 't' } })).toBe('params.message.TaskId');
    expect(strayIdKey({ message: { parts: [], CONTEXTID: 'c' } })).toBe('params.message.CONTEXTID');
    expect(strayIdKey({ message: { parts: [], 'reference-task-ids': ['t'] } })).toBe('params.message.reference-task-ids');
    expect(strayIdKey({ message: { parts: [] }, ID: 't' })).toBe('params.ID');
    expect(strayIdKey({ message: { parts: [] }, Message: { parts: [], taskId: 't' } })).toBe('params.Message');
    expect(strayIdKey({ message: { parts: [], Metadata: { contextId: 'c' } } })).toBe('params.message.Metadata');
    expect(strayIdKey({ message: { parts: [], metadata: { session_id: 'c' } } })).toBe('params.message.metadata.session_id');
    expect(strayIdKey({ message: { parts: [], metadata: { ContextId: 'c' } } })).toBe('params.message.metadata.ContextId');
    expect(strayIdKey({ message: { parts: [] }, metadata: { contextId: 'c' } })).toBe('params.metadata.contextId');
    // Go folds the long s and the Kelvin sign as s and k.
    expect(strayIdKey({ message: { parts: [], 'taſkId': 't' } })).toBe('params.message.taſkId');
    expect(foldedKey('\u212Aagent_session_id')).toBe('kagentsessionid');
  });
});

describe('taskParams', () => {
  it("keeps only the checked id, historyLength and metadata: an `ID` an agent would read instead is dropped", () => {
    expect(taskParams({ id: 'mine', ID: 'theirs', Id: 'theirs', historyLength: 3, name: 'tasks/theirs', metadata: { a: 1 } })).toEqual({ id: 'mine', historyLength: 3, metadata: { a: 1 } });
    expect(taskParams({ id: 'mine', history_length: 2, historyLength: 'x' })).toEqual({ id: 'mine' });
    expect(taskParams({ id: 'mine', history_length: 2 })).toEqual({ id: 'mine', historyLength: 2 });
  });

  it('refuses an id-like key in the metadata', () => {
    expect(taskMetadataStray({ id: 'mine', metadata: { contextId: 'c' } })).toBe('params.metadata.contextId');
    expect(taskMetadataStray({ id: 'mine', metadata: { note: 'x' } })).toBeUndefined();
  });
});
