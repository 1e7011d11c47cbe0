import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakePubSub, startFakePubSub } from '../../../../test/fakes/gcs-pubsub.ts';
import { gcsBucketPoster } from './gcs-bucket.ts';
import { gcsPubSubPoster, pubSubTargetOf } from './gcs-pubsub.ts';
import { TOKEN_FAILURE_MS } from './service-account-tokens.ts';
import type { LoggerTarget } from './types.ts';

const KEY = JSON.stringify({ type: 'service_account', client_email: 'logs@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' });
const SETTINGS = { GCS_PUBSUB_PROJECT_ID: 'my-project-1', GCS_PUBSUB_TOPIC_ID: 'litellm-spend', GCS_PATH_SERVICE_ACCOUNT: KEY };

describe('the gcs_pubsub logger\'s settings', () => {
  it('publishes to pubsub.googleapis.com\'s topic URL unless GCS_PUBSUB_API_BASE says otherwise', () => {
    expect(pubSubTargetOf(SETTINGS)).toMatchObject({ url: 'https://pubsub.googleapis.com/v1/projects/my-project-1/topics/litellm-spend:publish' });
    expect(pubSubTargetOf({ ...SETTINGS, GCS_PUBSUB_API_BASE: 'http://127.0.0.1:8085/' })).toMatchObject({ url: 'http://127.0.0.1:8085/v1/projects/my-project-1/topics/litellm-spend:publish' });
  });

  it('names what is missing or wrong, never the key, and keeps the payloads for a retry meanwhile', () => {
    expect(pubSubTargetOf({ ...SETTINGS, GCS_PUBSUB_TOPIC_ID: '' })).toEqual({ error: expect.stringContaining('GCS_PUBSUB_TOPIC_ID') });
    expect(pubSubTargetOf({ ...SETTINGS, GCS_PUBSUB_PROJECT_ID: undefined })).toEqual({ error: expect.stringContaining('GCS_PUBSUB_PROJECT_ID') });
    // A topic's full name, or one that would climb out of the URL, is no topic id.
    for (const topic of ['projects/p/topics/t', '..', 'goog-topic']) expect(pubSubTargetOf({ ...SETTINGS, GCS_PUBSUB_TOPIC_ID: topic })).toEqual({ error: expect.stringContaining('not a Pub/Sub topic id') });
    expect(pubSubTargetOf({ ...SETTINGS, GCS_PUBSUB_PROJECT_ID: 'a/../b' })).toEqual({ error: expect.stringContaining('not a Google Cloud project id') });
    expect(pubSubTargetOf({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: '/secrets/key.json' })).toEqual({ error: expect.stringContaining('is a path') });
    const bad = pubSubTargetOf({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: '{"private_key":"pk-secret-1"}' });
    expect(bad).toEqual({ error: expect.stringContaining('not a service account key') });
    expect(JSON.stringify(bad)).not.toContain('pk-secret-1');
    expect(gcsPubSubPoster.target({ ...SETTINGS, GCS_PUBSUB_TOPIC_ID: '' })).toEqual({ error: expect.any(String), retry: true });
  });

  it('counts a request as Pub/Sub does: up to 1000 messages, their base64 under its 10 MB', () => {
    expect(gcsPubSubPoster.maxPayloads).toBe(1000);
    const bytes = new Uint8Array(3 * 1024 * 1024);
    // 3 MB of JSON is 4 MB of base64: two such payloads fit a publish, three do not.
    const size = gcsPubSubPoster.requestBytes!({ bytes, events: 1 });
    expect(size).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(2 * size).toBeLessThanOrEqual(gcsPubSubPoster.maxBytes);
    expect(3 * size).toBeGreaterThan(gcsPubSubPoster.maxBytes);
    expect(gcsPubSubPoster.maxBytes).toBeLessThan(10_000_000);
  });
});

describe('the gcs_pubsub logger publishing to a fake Pub/Sub', () => {
  let pubsub: FakePubSub;
  let target: LoggerTarget;
  beforeAll(async () => {
    pubsub = await startFakePubSub({ project: 'my-project-1', topic: 'litellm-spend' });
    const made = gcsPubSubPoster.target({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: pubsub.account.json, GCS_PUBSUB_API_BASE: pubsub.url });
    if ('error' in made) throw new Error(made.error);
    target = made;
  });
  afterAll(() => pubsub?.close());

  const payload = (id: string, status = 'success') => ({ id, status, model: 'gpt-4o', messages: [{ role: 'user', content: `hi ${id} ✓` }] });
  const segment = (...payloads: object[]) => ({ bytes: new TextEncoder().encode(payloads.map((p) => JSON.stringify(p)).join(',')), events: payloads.length });

  it('publishes each successful payload as one message of its JSON, in one request, with a Pub/Sub-scoped bearer token from a signed JWT', async () => {
    const result = await target.post([segment(payload('p1'), payload('p2', 'failure')), segment(payload('p3'))]);
    expect(result).toEqual({ ok: true });
    expect(pubsub.publishes).toEqual([2]);
    expect(pubsub.messages.map((m) => JSON.parse(m.data))).toEqual([payload('p1'), payload('p3')]);
    expect(pubsub.messages[0]!.headers.authorization).toMatch(/^Bearer ya29\.pubsub-test-token-1$/);
    expect(pubsub.tokenChecks).toEqual([expect.objectContaining({ ok: true, claims: expect.objectContaining({ scope: 'https://www.googleapis.com/auth/pubsub' }) })]);
    expect(pubsub.rejected).toEqual([]);
  });

  it('publishes a large payload with non-ASCII text intact', async () => {
    const large = { ...payload('big'), messages: [{ role: 'user', content: 'é✓'.repeat(100_000) }] };
    expect(await target.post([segment(large)])).toEqual({ ok: true });
    expect(JSON.parse(pubsub.messages.at(-1)!.data)).toEqual(large);
  });

  it('takes any 2xx as published (LiteLLM takes 200 and 202)', async () => {
    pubsub.publishedStatus = 202;
    try {
      expect(await target.post([segment(payload('accepted'))])).toEqual({ ok: true });
    } finally {
      pubsub.publishedStatus = 200;
    }
    expect(JSON.parse(pubsub.messages.at(-1)!.data)).toMatchObject({ id: 'accepted' });
  });

  it('takes a whole publish of 1000 messages', async () => {
    const before = pubsub.messages.length;
    const many = Array.from({ length: 1000 }, (_, i) => payload(`m${i}`));
    expect(await target.post([segment(...many)])).toEqual({ ok: true });
    expect(pubsub.messages.length - before).toBe(1000);
    expect(pubsub.publishes.at(-1)).toBe(1000);
  });

  it('retries on 403 PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE and a 400 FAILED_PRECONDITION (a topic\'s CMEK key or state)', async () => {
    for (const [status, code] of [[403, 'PERMISSION_DENIED'], [429, 'RESOURCE_EXHAUSTED'], [503, 'UNAVAILABLE'], [400, 'FAILED_PRECONDITION']] as const) {
      pubsub.failNext(status, 1, { echo: true, code });
      const result = await target.post([segment(payload(`f${status}`))]);
      expect(result).toEqual({ ok: false, retry: true, reason: `HTTP ${status} ${code}` });
    }
    expect(pubsub.refused.map((r) => r.status)).toEqual([403, 429, 503, 400]);
  });

  it('refuses the messages (split, then dropped) only on a 400 INVALID_ARGUMENT or a 413', async () => {
    pubsub.failNext(400, 1, { code: 'INVALID_ARGUMENT' });
    expect(await target.post([segment(payload('schema'))])).toEqual({ ok: false, retry: false, reason: 'HTTP 400 INVALID_ARGUMENT' });
    // A request too large for Google's front end gets its HTML page, not Pub/Sub's JSON.
    pubsub.failNext(413);
    expect(await target.post([segment(payload('huge'))])).toEqual({ ok: false, retry: false, reason: 'HTTP 413' });
  });

  it('retries a topic Pub/Sub does not have (404 NOT_FOUND): the operator creates it, nothing is lost', async () => {
    const made = gcsPubSubPoster.target({ ...SETTINGS, GCS_PUBSUB_TOPIC_ID: 'no-such-topic', GCS_PATH_SERVICE_ACCOUNT: pubsub.account.json, GCS_PUBSUB_API_BASE: pubsub.url });
    if ('error' in made) throw new Error(made.error);
    expect(await made.post([segment(payload('lost?'))])).toEqual({ ok: false, retry: true, reason: 'HTTP 404 NOT_FOUND' });
  });

  it('gets no answer from a Pub/Sub that is down: retried', async () => {
    const made = gcsPubSubPoster.target({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: pubsub.account.json, GCS_PUBSUB_API_BASE: 'http://127.0.0.1:9' });
    if ('error' in made) throw new Error(made.error);
    expect(await made.post([segment(payload('down'))])).toMatchObject({ ok: false, retry: true, unanswered: true });
  });

  it('sends nothing for a batch of failures only (LiteLLM publishes successes alone)', async () => {
    const before = pubsub.publishes.length;
    expect(await target.post([segment(payload('x', 'failure'))])).toEqual({ ok: true });
    expect(pubsub.publishes.length).toBe(before);
  });
});

describe('the gcs_pubsub logger\'s tokens', () => {
  let pubsub: FakePubSub;
  beforeAll(async () => {
    pubsub = await startFakePubSub({ project: 'my-project-1', topic: 'litellm-spend' });
  });
  afterAll(() => pubsub?.close());

  // A target is made per batch: its tokens exchanged during it are the batch's fresh ones.
  const batch = (): LoggerTarget => {
    const made = gcsPubSubPoster.target({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: pubsub.account.json, GCS_PUBSUB_API_BASE: pubsub.url });
    if ('error' in made) throw new Error(made.error);
    return made;
  };
  const segment = (id: string) => [{ bytes: new TextEncoder().encode(JSON.stringify({ id, status: 'success' })), events: 1 }];

  it('drops a revoked token on its 401, so the retry signs in anew and is published', async () => {
    expect(await batch().post(segment('t1'))).toEqual({ ok: true });
    expect(pubsub.tokenChecks).toHaveLength(1);
    pubsub.revoke();
    const next = batch();
    expect(await next.post(segment('t2'))).toEqual({ ok: false, retry: true, reason: 'HTTP 401 UNAUTHENTICATED' });
    expect(await next.post(segment('t2'))).toEqual({ ok: true });
    expect(pubsub.tokenChecks).toHaveLength(2);
    expect(pubsub.messages.at(-1)!.headers.authorization).toBe('Bearer ya29.pubsub-test-token-2');
  });

  it('remembers a fresh token Pub/Sub refused for 30 s: the batch\'s other requests and the next batches are retried with no exchange', async () => {
    pubsub.refuseTokens = true;
    pubsub.revoke();
    const reason = 'no access token for the service account: Pub/Sub refused a fresh one (HTTP 401 UNAUTHENTICATED)';
    try {
      const first = batch();
      // The token kept from an earlier batch is taken for revoked; the one exchanged anew, refused too, is the account's fault.
      expect(await first.post(segment('r1'))).toEqual({ ok: false, retry: true, reason: 'HTTP 401 UNAUTHENTICATED' });
      expect(await first.post(segment('r1'))).toEqual({ ok: false, retry: true, reason });
      const exchanges = pubsub.tokenChecks.length;
      const rejected = pubsub.rejected.length;
      expect(await first.post(segment('r2'))).toEqual({ ok: false, retry: true, reason });
      expect(await batch().post(segment('r3'))).toEqual({ ok: false, retry: true, reason });
      expect({ exchanges: pubsub.tokenChecks.length, publishes: pubsub.rejected.length }).toEqual({ exchanges, publishes: rejected });
      // Past the 30 s the account is tried again (its operator may have mended it).
      pubsub.refuseTokens = false;
      const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.now() + TOKEN_FAILURE_MS + 1);
      try {
        expect(await batch().post(segment('r4'))).toEqual({ ok: true });
      } finally {
        clock.mockRestore();
      }
      expect(pubsub.tokenChecks.length).toBe(exchanges + 1);
    } finally {
      pubsub.refuseTokens = false;
    }
  });

  it('keeps its own tokens and failures: gcs_bucket failing for the same account stops no publish', async () => {
    // Another account's Pub/Sub (the last test's failure is remembered for real time), whose token endpoint gives
    // Pub/Sub-scoped tokens only: gcs_bucket's cloud-platform exchange is refused.
    const other = await startFakePubSub({ project: 'my-project-1', topic: 'litellm-spend' });
    try {
      const bucket = gcsBucketPoster.target({ GCS_BUCKET_NAME: 'logs-1', GCS_PATH_SERVICE_ACCOUNT: other.account.json, GCS_API_BASE: other.url });
      if ('error' in bucket) throw new Error(bucket.error);
      const payload = { id: 'b1', status: 'success', startTime: 1, error_str: null };
      expect(await bucket.post([{ bytes: new TextEncoder().encode(JSON.stringify(payload)), events: 1 }]))
        .toEqual({ ok: false, retry: true, reason: expect.stringContaining('no access token for the service account: could not get an access token: invalid_grant') });
      const publish = gcsPubSubPoster.target({ ...SETTINGS, GCS_PATH_SERVICE_ACCOUNT: other.account.json, GCS_PUBSUB_API_BASE: other.url });
      if ('error' in publish) throw new Error(publish.error);
      expect(await publish.post(segment('after-gcs'))).toEqual({ ok: true });
      expect(other.tokenChecks.map((c) => c.ok)).toEqual([false, true]);
    } finally {
      await other.close();
    }
  });
});
