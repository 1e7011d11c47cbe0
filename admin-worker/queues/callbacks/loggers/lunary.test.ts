import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeLunary, LUNARY_PARENT_WAIT_MS, startFakeLunary } from '../../../../test/fakes/lunary.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import { lunaryEvents, lunaryMessages, lunaryPoster, lunaryRunId } from './lunary.ts';
import { MAX_CHILD_RUNS_PER_REQUEST } from './lunary-ingest.ts';
import { POST_TIMEOUT_MS } from './types.ts';

// LiteLLM's Lunary run, from a StandardLoggingPayload: a start event and an end (or error) event of one run id.

const payload = {
  id: 'call-1', call_type: 'acompletion', status: 'success', model: 'gpt-4o', end_user: 'customer-7', request_tags: ['prod'],
  prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, startTime: 100, endTime: 101.5,
  messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
  response: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] },
  model_parameters: { temperature: 0.2, max_tokens: 64, response_format: { type: 'json_object' }, extra_body: { x: 1 } },
  metadata: { user_api_key_hash: 'abc', user_api_key_team_id: null, requester_metadata: { team: 'blue', user_api_key_hash: 'forged' } },
};
const ids = { runId: '00000000-0000-0000-0000-000000000001' };

describe('the lunary events', () => {
  it('are LiteLLM\'s: a start with the model, prompt, end user, tags, metadata and params, then an end with the answer and tokens', () => {
    expect(lunaryEvents(payload, ids)).toEqual([
      {
        event: 'start', type: 'llm', name: 'gpt-4o', userId: 'customer-7', tags: ['prod'], runId: ids.runId, timestamp: '1970-01-01T00:01:40.000Z',
        input: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], runtime: 'litellm',
        // The gateway's attribution wins over the client's same-named key; empty fields are left out.
        metadata: { team: 'blue', user_api_key_hash: 'abc' },
        params: { temperature: 0.2, max_tokens: 64, response_format: '{"type":"json_object"}' },
      },
      { event: 'end', type: 'llm', runId: ids.runId, timestamp: '1970-01-01T00:01:41.500Z', runtime: 'litellm', output: { role: 'assistant', content: 'hello' }, tokensUsage: { prompt: 11, completion: 5 } },
    ]);
  });

  it('carry the client\'s metadata keys, but not the identifiers the gateway keeps for other loggers when it left the metadata out', () => {
    const kept = { run_name: 'r', project_name: 'p', parent_run_id: 'x', user_id: 'u', span_name: 's' };
    const redacted = [{ role: 'user', content: 'redacted-by-litellm' }];
    const meta = (messages: unknown, requester: Record<string, unknown>, messageLogging = true) =>
      lunaryEvents({ ...payload, messages, metadata: { user_api_key_hash: 'abc', requester_metadata: requester } }, ids, messageLogging)[0]!.metadata;
    // callback_settings.lunary.message_logging false (read from the config): none of the client's keys.
    expect(meta(redacted, kept, false)).toEqual({ user_api_key_hash: 'abc' });
    expect(meta(payload.messages, { ...kept, team: 'blue' }, false)).toEqual({ user_api_key_hash: 'abc' });
    // Cut for size: the marker and the identifiers beside it.
    expect(meta(payload.messages, { truncated: true, original_chars: 90000, head: '{"team"', ...kept })).toEqual({ user_api_key_hash: 'abc' });
    // The payload shrunk whole to fit a queue message: no prompt at all, only the identifiers.
    expect(meta(null, kept)).toEqual({ user_api_key_hash: 'abc' });
    // Kept whole, the client's keys go, those identifiers among them, as LiteLLM passes the metadata: also for a
    // call redacted by its own headers (message logging on for lunary), whose metadata is kept.
    expect(meta(payload.messages, { ...kept, team: 'blue' })).toEqual({ ...kept, team: 'blue', user_api_key_hash: 'abc' });
    expect(meta(redacted, { ...kept, team: 'blue' })).toEqual({ ...kept, team: 'blue', user_api_key_hash: 'abc' });
    expect(meta(redacted, kept)).toEqual({ ...kept, user_api_key_hash: 'abc' });
  });

  it('make a failed call\'s second event an error, and an embedding an embed run without output', () => {
    const failed = lunaryEvents({ ...payload, status: 'failure', response: null, error_str: 'litellm.RateLimitError: slow down', error_information: { error_class: 'RateLimitError', traceback: '' } }, ids);
    expect(failed.map((e) => e.event)).toEqual(['start', 'error']);
    expect(failed[1]).toEqual({ event: 'error', type: 'llm', runId: ids.runId, timestamp: '1970-01-01T00:01:41.500Z', runtime: 'litellm', error: { message: 'litellm.RateLimitError: slow down', stack: 'litellm.RateLimitError: slow down' } });
    const embed = lunaryEvents({ ...payload, call_type: 'aembedding', messages: ['a', 'b'], response: null, completion_tokens: 0 }, ids);
    expect(embed[0]).toMatchObject({ type: 'embed', input: ['a', 'b'] });
    expect(embed[1]).toEqual({ event: 'end', type: 'embed', runId: ids.runId, timestamp: '1970-01-01T00:01:41.500Z', runtime: 'litellm', tokensUsage: { prompt: 11, completion: 0 } });
  });

  it('keep the redacted prompt and answer of a call with message logging off, and send no input when there is none', () => {
    const quiet = lunaryEvents({ ...payload, messages: [{ role: 'user', content: 'redacted-by-litellm' }], response: { choices: [{ message: { role: 'assistant', content: 'redacted-by-litellm' } }] } }, ids);
    expect(quiet[0]!.input).toEqual({ role: 'user', content: 'redacted-by-litellm' });
    expect(quiet[1]!.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    expect(lunaryEvents({ ...payload, messages: null }, ids)[0]).not.toHaveProperty('input');
  });

  it('clean messages as LiteLLM does: role, content and tool calls only, one message unwrapped', () => {
    const call = { id: 't1', type: 'function', function: { name: 'f', arguments: '{}' }, index: 0 };
    expect(lunaryMessages([{ role: 'assistant', content: null, tool_calls: [call], name: 'x' }])).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
    expect(lunaryMessages('a prompt')).toBe('a prompt');
  });

  it('give a call the run id Lunary\'s SDK gives it: SHA-256 of the call id and the key, as a UUID', async () => {
    const hex = createHash('sha256').update('call-1pk-123').digest('hex').slice(0, 32);
    expect(await lunaryRunId('call-1', 'pk-123')).toBe(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  });

  it('need a key, and an http(s) LUNARY_API_URL', () => {
    expect(lunaryPoster.target({})).toEqual({ error: 'LUNARY_PUBLIC_KEY is not set for the admin Worker' });
    expect(lunaryPoster.target({ LUNARY_PUBLIC_KEY: 'pk', LUNARY_API_URL: 'ftp://x' })).toEqual({ error: 'LUNARY_API_URL is not an http(s) URL' });
    expect(lunaryPoster.target({ LUNARY_PUBLIC_KEY: 'pk' })).toMatchObject({ where: 'https://api.lunary.ai' });
  });
});

// The poster against a fake Lunary on loopback, through the dispatcher.
describe('the lunary poster', () => {
  const KEY = 'lunary-unit-public-key-0123456789';
  let lunary: FakeLunary;
  let env: Record<string, string>;
  beforeAll(async () => {
    // Lunary's 2 s wait for a parent run, scaled down; the requests' waits are counted.
    lunary = await startFakeLunary({ key: KEY, parentWaitMs: 100 });
    env = { LUNARY_PUBLIC_KEY: KEY, LUNARY_API_URL: lunary.url };
  });
  afterAll(async () => {
    await lunary?.close();
  });

  const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('lunary', origin, payloads);
  const deliver = (segments: LoggerSegment[], to = env) => deliverSegments(segments, to);

  it('posts each payload\'s start and end in one batch to /v1/runs/ingest with the key as a bearer token', async () => {
    const { reports, retried } = await deliver([segment(0, [{ ...payload, id: 'batch-a' }, { ...payload, id: 'batch-b', status: 'failure', error_str: 'boom' }])]);
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    const sent = lunary.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.events.map((e) => e.event)).toEqual(['start', 'end', 'start', 'error']);
    const a = lunary.runs.get(await lunaryRunId('batch-a', KEY))!;
    expect(a).toMatchObject({ status: 'success', start: { name: 'gpt-4o', userId: 'customer-7' }, end: { tokensUsage: { prompt: 11, completion: 5 } } });
    expect(lunary.runs.get(await lunaryRunId('batch-b', KEY))).toMatchObject({ status: 'error', error: { error: { message: 'boom' } } });
  });

  it('retries what Lunary answers 429 or 503 (never quoting the key it echoes), and the run sent again is not a second run', async () => {
    for (const status of [429, 503]) {
      lunary.failNext(status, 1, { echo: true });
      const failed = await deliver([segment(5, [{ ...payload, id: `retry-${status}` }])]);
      expect(failed.retried).toEqual([5]);
      expect(failed.reports).toEqual([expect.stringContaining(`HTTP ${status}`)]);
      expect(failed.reports.join()).not.toContain(KEY);
      const again = await deliver([segment(5, [{ ...payload, id: `retry-${status}` }])]);
      expect(again).toEqual({ reports: [], retried: [] });
    }
  });

  it('sends again a batch whose answer was lost: Lunary refuses the second starts, no second run and no failure', async () => {
    lunary.dropAnswerNext();
    const lost = await deliver([segment(6, [{ ...payload, id: 'lost-a' }, { ...payload, id: 'lost-b', status: 'failure', error_str: 'boom' }])]);
    expect(lost.retried).toEqual([6]);
    const runs = lunary.runs.size;
    const again = await deliver([segment(6, [{ ...payload, id: 'lost-a' }, { ...payload, id: 'lost-b', status: 'failure', error_str: 'boom' }])]);
    expect(again).toEqual({ reports: [], retried: [] });
    expect(lunary.runs.size).toBe(runs);
    expect(lunary.duplicates).toEqual(expect.arrayContaining([await lunaryRunId('lost-a', KEY), await lunaryRunId('lost-b', KEY)]));
    expect(lunary.requests.at(-1)!.results.filter((r) => !r.success).map((r) => r.error)).toEqual([expect.stringMatching(/already exists/), expect.stringMatching(/already exists/)]);
  });

  it('sends runs naming a parent a few a request, after their parents in the batch, so Lunary\'s waits fit the timeout and each nests', async () => {
    expect(MAX_CHILD_RUNS_PER_REQUEST * LUNARY_PARENT_WAIT_MS).toBeLessThan(POST_TIMEOUT_MS);
    const before = lunary.requests.length;
    const child = (id: string, parent: string) => ({ ...payload, id, metadata: { requester_metadata: { parent_run_id: parent } } });
    const orphans = [1, 2, 3, 4, 5].map((n) => child(`orphan-${n}`, `missing-parent-${n}`));
    // The grandchild comes first in the batch: its parent, itself a child, must be stored before it is.
    const batch = [child('grandchild', 'nested'), child('nested', 'parent-call'), ...orphans, { ...payload, id: 'parent-call' }];
    const { reports, retried } = await deliver([segment(7, batch)]);
    const sent = lunary.requests.slice(before);
    expect(sent.map((r) => r.parentWaits)).toEqual([0, 2, 3, 0]);
    expect(sent[0]!.events.map((e) => e.runId)).toEqual([await lunaryRunId('parent-call', KEY), await lunaryRunId('parent-call', KEY)]);
    expect(lunary.runs.get(await lunaryRunId('nested', KEY))).toMatchObject({ status: 'success', start: { parentRunId: await lunaryRunId('parent-call', KEY) } });
    expect(lunary.runs.get(await lunaryRunId('grandchild', KEY))).toMatchObject({ status: 'success', start: { parentRunId: await lunaryRunId('nested', KEY) } });
    // A parent still missing after Lunary's wait: Lunary stores the run without it (success), nothing to retry or count.
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    expect(lunary.runs.get(await lunaryRunId('orphan-1', KEY))).toMatchObject({ status: 'success' });
    expect(lunary.unnested).toEqual(await Promise.all(orphans.map((o) => lunaryRunId(o.id, KEY))));
  });

  it('nests under a numeric parent_run_id as its text, as the SDK does, and under no object', async () => {
    await deliver([segment(10, [{ ...payload, id: '4242' }])]);
    const meta = (parent: unknown) => ({ requester_metadata: { parent_run_id: parent } });
    await deliver([segment(10, [{ ...payload, id: 'numeric-child', metadata: meta(4242) }, { ...payload, id: 'object-child', metadata: meta({ id: '4242' }) }])]);
    expect(lunary.runs.get(await lunaryRunId('numeric-child', KEY))!.start.parentRunId).toBe(await lunaryRunId('4242', KEY));
    expect(lunary.runs.get(await lunaryRunId('object-child', KEY))!.start).not.toHaveProperty('parentRunId');
  });

  it('counts an event Lunary refused in its answer as dropped, logging and reporting it without the key Lunary quotes', async () => {
    lunary.refuseStartsNext(`could not store the run for key ${KEY}`);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    let result: Awaited<ReturnType<typeof deliver>>;
    try {
      result = await deliver([segment(11, [{ ...payload, id: 'refused-start' }])]);
    } finally {
      spy.mockRestore();
    }
    expect(result.retried).toEqual([]);
    expect(result.reports).toEqual([expect.stringMatching(/^lunary: 1 events Lunary refused, dropped: .*could not store the run for key \[redacted\]/)]);
    expect(lines.join('\n')).toMatch(/lunary callback: Lunary refused the event of run .*could not store the run for key \[redacted\]; dropped/);
    expect([...result.reports, ...lines].join('\n')).not.toContain(KEY);
  });

  it('retries with a wrong key (401), never quoting it', async () => {
    const wrong = await deliver([segment(8, [{ ...payload, id: 'wrong-key' }])], { ...env, LUNARY_PUBLIC_KEY: 'not-the-key' });
    expect(wrong.retried).toEqual([8]);
    expect(wrong.reports.join()).toContain('HTTP 401');
    expect(wrong.reports.join()).not.toContain('not-the-key');
  });
});
