import { describe, expect, it } from 'vitest';
import { requestPool } from './loggers/pool.ts';
import type { LoggerTarget, PostResult } from './loggers/types.ts';
import { ownerRunner, rememberingTarget } from './owner-limits.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const taken: PostResult = { ok: true };

describe('ownerRunner', () => {
  it('answers a request still waiting when the budget is spent as one to retry, and never sends it', async () => {
    const shared = requestPool(1);
    const deadline = Date.now() + 50;
    const hanging = ownerRunner(requestPool(1), shared, deadline)(async () => (await sleep(200), taken));
    let sent = false;
    const started = Date.now();
    const waiting = await ownerRunner(requestPool(1), shared, deadline)(async () => ((sent = true), taken));
    expect(waiting).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('not sent') });
    expect(Date.now() - started).toBeLessThan(150);
    // The request already sent runs to its answer; the one answered at the deadline is skipped when its turn comes.
    expect(await hanging).toEqual(taken);
    await sleep(10);
    expect(sent).toBe(false);
  });

  it('runs requests that start within the budget', async () => {
    const run = ownerRunner(requestPool(1), requestPool(2), Date.now() + 1000);
    expect(await run(async () => taken)).toEqual(taken);
  });
});

describe('rememberingTarget', () => {
  it('skips a destination that gave no answer, for that logger and origin only', async () => {
    let posts = 0;
    const target = (where: string, result: PostResult): LoggerTarget => ({ where, post: async () => ((posts++), result) });
    const dead = rememberingTarget('langsmith', target('http://hang.test:1', { ok: false, retry: true, reason: 'no answer within 10000 ms', unanswered: true }));
    expect(await dead.post([])).toMatchObject({ ok: false, unanswered: true });
    expect(await dead.post([])).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('not sent') });
    expect(posts).toBe(1);
    // Another origin, and a refusal that is an answer, are tried each time.
    const refusing = rememberingTarget('langsmith', target('http://up.test:1', { ok: false, retry: true, reason: 'HTTP 503' }));
    await refusing.post([]);
    await refusing.post([]);
    expect(posts).toBe(3);
    expect(await rememberingTarget('gcs_bucket', target('http://hang.test:1', taken)).post([])).toEqual(taken);
  });
});
