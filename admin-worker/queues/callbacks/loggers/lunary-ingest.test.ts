import { describe, expect, it } from 'vitest';
import { ingestRequests, refusedEvents } from './lunary-ingest.ts';

// How Lunary's per-event answer is read, and in what order a batch's runs are sent.

describe('the lunary ingest', () => {
  it('count as refused every failed result but a second start of a run (Lunary\'s check, or older Lunary\'s primary key)', () => {
    const answer = (error: string) => JSON.stringify({ results: [{ id: 'r1', success: false, error }, { id: 'r2', success: true }] });
    expect(refusedEvents(answer('Run with this ID already exists in the database.'))).toEqual([]);
    expect(refusedEvents(answer('duplicate key value violates unique constraint "run_pkey"'))).toEqual([]);
    for (const error of ['Project already exists elsewhere', 'duplicate key value violates unique constraint "external_user_pkey"', 'insert failed: Run with this ID already exists']) {
      expect(refusedEvents(answer(error))).toEqual([`r1: ${error}`]);
    }
  });

  it('sends children in waves under their parents, and runs whose parents name each other last, together', () => {
    const run = (runId: string, parentRunId?: string) => ({ events: [{ runId }], runId, ...(parentRunId ? { parentRunId } : {}) });
    const requests = ingestRequests([run('c', 'b'), run('b', 'a'), run('a'), run('x', 'y'), run('y', 'x')]);
    expect(requests.map((events) => events.map((e) => e.runId))).toEqual([['a'], ['b'], ['c'], ['x', 'y']]);
  });
});
