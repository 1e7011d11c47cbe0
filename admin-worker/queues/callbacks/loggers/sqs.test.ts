import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeSqs, startFakeSqs } from '../../../../test/fakes/sqs.ts';
import type { EventSegment } from '../segment.ts';
import { postToQueue, regionOfQueueUrl, sqsPoster, sqsTargetOf, stripBase64, type SqsTarget } from './sqs.ts';
import { deliverLoggers, type LoggerSegment } from '../loggers.ts';
import { validateConfig } from '../../../../worker/config/validate.ts';
import { batchOutcome, sendMessageBatchBody, sqsRetryable } from './sqs-wire.ts';

// The aws_sqs poster against a fake SQS queue (query protocol, SigV4 checked) on loopback: batches, SQS's
// partial failures and its refusals, without the dispatcher in between.

const CREDS = { accessKeyId: 'AKIASQSUNITTEST0001', secretAccessKey: 'sqs-unit-secret-0001', region: 'eu-west-1' };
const encoder = new TextEncoder();
const segmentOf = (payloads: Record<string, unknown>[]): EventSegment => ({ bytes: encoder.encode(payloads.map((p) => JSON.stringify(p)).join(',')), events: payloads.length });

let sqs: FakeSqs;
let target: SqsTarget;

beforeAll(async () => {
  sqs = await startFakeSqs(CREDS);
  const made = sqsTargetOf({ sqs_queue_url: sqs.queueUrl, sqs_region_name: CREDS.region, sqs_aws_access_key_id: 'os.environ/MY_SQS_ID', sqs_aws_secret_access_key: 'os.environ/MY_SQS_SECRET' }, { MY_SQS_ID: CREDS.accessKeyId, MY_SQS_SECRET: CREDS.secretAccessKey });
  if ('error' in made) throw new Error(made.error);
  target = made;
});
afterAll(async () => {
  await sqs?.close();
});

const bodiesOf = (id: string) => sqs.messages.filter((m) => (JSON.parse(m.body) as { id: string }).id === id);

describe('the aws_sqs poster', () => {
  it('sends a batch\'s payloads as one signed SendMessageBatch, each payload\'s JSON one message', async () => {
    const before = sqs.requests.length;
    const result = await postToQueue(target, [segmentOf([{ id: 'u-1', model: 'gpt-4o' }, { id: 'u-2', text: 'ünïcode \uffff' }]), segmentOf([{ id: 'u-3' }])]);
    expect(result).toEqual({ ok: true });
    expect(sqs.requests.slice(before)).toEqual([3]);
    expect(JSON.parse(bodiesOf('u-2')[0]!.body)).toEqual({ id: 'u-2', text: 'ünïcode \uffff' });
    expect(bodiesOf('u-2')[0]!.body).not.toContain('\uffff');
    expect(sqs.rejected).toEqual([]);
  });

  it('sends again only the entries SQS failed on its side, and logs and drops only the one it refuses as such', async () => {
    sqs.failEntriesWith('flaky-entry', 1);
    sqs.refuseEntriesWith('poison-entry');
    const before = sqs.requests.length;
    const result = await postToQueue(target, [segmentOf([{ id: 'p-1' }, { id: 'p-2', note: 'flaky-entry' }, { id: 'p-3', note: 'poison-entry' }])]);
    sqs.refuseEntriesWith(undefined);
    expect(result).toEqual({ ok: true, dropped: 'SQS refused 1 of 3 messages, dropped (InvalidMessageContents)' });
    // The second request holds the failed entry alone: the taken one is not sent twice.
    expect(sqs.requests.slice(before)).toEqual([3, 1]);
    expect([bodiesOf('p-1').length, bodiesOf('p-2').length, bodiesOf('p-3').length]).toEqual([1, 1, 0]);
  });

  it('sends only the untaken entries again when a later request of them fails whole (503): the taken ones once', async () => {
    const realFetch = globalThis.fetch;
    let n = 0;
    // The second request (the failed entry alone) is answered 503 as a whole.
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((...args) => {
      if (++n === 2) sqs.failNext(503, 1);
      return realFetch(...args);
    });
    sqs.failEntriesWith('flaky-later', 1);
    const before = sqs.requests.length;
    let result;
    try {
      result = await postToQueue(target, [segmentOf([{ id: 'l-1' }, { id: 'l-2', note: 'flaky-later' }])]);
    } finally {
      spy.mockRestore();
    }
    expect(result).toEqual({ ok: true });
    expect(sqs.requests.slice(before)).toEqual([2, 1, 1]);
    expect([bodiesOf('l-1').length, bodiesOf('l-2').length]).toEqual([1, 1]);
  });

  it('has the dispatcher count the entries SQS refused in a batch it took the rest of as the callback\'s failure', async () => {
    const spy = vi.spyOn(sqsPoster, 'target').mockReturnValue({ where: sqs.queueUrl, post: (segments) => postToQueue(target, segments) });
    const reports: string[] = [];
    const retried: number[] = [];
    sqs.refuseEntriesWith('poison-entry');
    try {
      const segment = (origin: number, payload: Record<string, unknown>): LoggerSegment => ({ ...segmentOf([payload]), name: 'aws_sqs', origin });
      await deliverLoggers([segment(0, { id: 'd-1' }), segment(1, { id: 'd-2', note: 'poison-entry' })], {}, (callback, error) => reports.push(`${callback}: ${error.message}`), (origin) => retried.push(origin));
    } finally {
      sqs.refuseEntriesWith(undefined);
      spy.mockRestore();
    }
    expect(retried).toEqual([]);
    expect(reports).toEqual(['aws_sqs: SQS refused 1 of 2 messages, dropped (InvalidMessageContents)']);
    expect([bodiesOf('d-1').length, bodiesOf('d-2').length]).toEqual([1, 0]);
  });

  it('calls a request whose every entry SQS refuses a refusal of its payloads (the dispatcher splits it)', async () => {
    sqs.refuseEntriesWith('poison-entry');
    const result = await postToQueue(target, [segmentOf([{ id: 'r-1', note: 'poison-entry' }])]);
    sqs.refuseEntriesWith(undefined);
    expect(result).toMatchObject({ ok: false, retry: false, reason: expect.stringContaining('InvalidMessageContents') });
  });

  it('retries a 503 and entries SQS keeps failing; drops a batch SQS calls too long', async () => {
    sqs.failNext(503, 1);
    expect(await postToQueue(target, [segmentOf([{ id: 's-1' }])])).toMatchObject({ ok: false, retry: true, reason: 'HTTP 503 ServiceUnavailable' });
    sqs.failEntriesWith('always-failing', 5);
    expect(await postToQueue(target, [segmentOf([{ id: 's-2', note: 'always-failing' }])])).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('InternalError') });
    sqs.failEntriesWith('', 0);
    const big = 'x'.repeat(140 * 1024);
    expect(await postToQueue(target, [segmentOf([{ id: 's-3', big }, { id: 's-4', big }])])).toMatchObject({ ok: false, retry: false, reason: 'HTTP 400 AWS.SimpleQueueService.BatchRequestTooLong' });
  });

  it('takes the wrong secret as the settings\' fault (a retry), never quoting it', async () => {
    const wrong = sqsTargetOf({ sqs_queue_url: sqs.queueUrl, sqs_region_name: CREDS.region, sqs_aws_access_key_id: CREDS.accessKeyId, sqs_aws_secret_access_key: 'not-the-secret' }, {});
    if ('error' in wrong) throw new Error(wrong.error);
    const result = await postToQueue(wrong, [segmentOf([{ id: 'w-1' }])]);
    expect(result).toMatchObject({ ok: false, retry: true, reason: 'HTTP 403 SignatureDoesNotMatch' });
  });
});

describe('the aws_sqs settings and wire format', () => {
  it('reads the region from an AWS queue URL, and names a missing queue URL or credential', () => {
    expect(regionOfQueueUrl(new URL('https://sqs.us-west-2.amazonaws.com/123456789012/q'))).toBe('us-west-2');
    expect(regionOfQueueUrl(new URL('https://eu-west-1.queue.amazonaws.com/123456789012/q'))).toBe('eu-west-1');
    expect(sqsTargetOf(undefined, {})).toEqual({ error: 'litellm_settings.aws_sqs_callback_params.sqs_queue_url is not set' });
    expect(sqsTargetOf({ sqs_queue_url: 'https://sqs.us-west-2.amazonaws.com/1/q', sqs_aws_access_key_id: 'os.environ/NOPE' }, {})).toMatchObject({ error: expect.stringContaining('NOPE is not set') });
    expect(sqsTargetOf({ sqs_queue_url: 'https://sqs.us-west-2.amazonaws.com/1/q', sqs_aws_use_application_level_encryption: true }, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).toMatchObject({ error: expect.stringContaining('not supported') });
    const fromEnv = sqsTargetOf({ sqs_queue_url: 'https://sqs.us-west-2.amazonaws.com/1/q' }, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    expect(fromEnv).toMatchObject({ auth: { accessKeyId: 'a', secretAccessKey: 'b', region: 'us-west-2' } });
  });

  it('never signs with a key pieced from the config and the env: id and secret both from the params, or neither', () => {
    const url = 'https://sqs.us-west-2.amazonaws.com/1/q';
    const env = { AWS_ACCESS_KEY_ID: 'env-id', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' };
    expect(sqsTargetOf({ sqs_queue_url: url, sqs_aws_secret_access_key: 'cfg-secret' }, env)).toEqual({ error: expect.stringContaining('sets only one of sqs_aws_access_key_id and sqs_aws_secret_access_key') });
    expect(sqsTargetOf({ sqs_queue_url: url, sqs_aws_access_key_id: 'cfg-id' }, env)).toEqual({ error: expect.stringContaining('set both, or neither') });
    expect(sqsTargetOf({ sqs_queue_url: url, sqs_aws_session_token: 'cfg-token' }, env)).toEqual({ error: expect.stringContaining('sqs_aws_session_token without') });
    expect(sqsTargetOf({ sqs_queue_url: url, sqs_aws_access_key_id: 'cfg-id', sqs_aws_secret_access_key: 'cfg-secret' }, env)).toMatchObject({ auth: { accessKeyId: 'cfg-id', secretAccessKey: 'cfg-secret' } });
    expect(sqsTargetOf({ sqs_queue_url: url, sqs_aws_access_key_id: 'cfg-id', sqs_aws_secret_access_key: 'cfg-secret' }, env)).not.toMatchObject({ auth: { sessionToken: expect.anything() } });
    expect(sqsTargetOf({ sqs_queue_url: url }, env)).toMatchObject({ auth: { accessKeyId: 'env-id', secretAccessKey: 'env-secret', sessionToken: 'env-token' } });
  });

  it('encodes the form as Python\'s quote(safe="") does, and reads SQS\'s batch answer', () => {
    expect(sendMessageBatchBody([{ id: '0', body: '{"a":"b c+d/é*"}' }])).toBe('Action=SendMessageBatch&Version=2012-11-05&SendMessageBatchRequestEntry.1.Id=0&SendMessageBatchRequestEntry.1.MessageBody=%7B%22a%22%3A%22b%20c%2Bd%2F%C3%A9%2A%22%7D');
    expect(batchOutcome('<SendMessageBatchResult><SendMessageBatchResultEntry><Id>0</Id><MessageId>m</MessageId></SendMessageBatchResultEntry><BatchResultErrorEntry><Id>1</Id><SenderFault>true</SenderFault><Code>InvalidMessageContents</Code><Message>x</Message></BatchResultErrorEntry></SendMessageBatchResult>'))
      .toEqual({ sent: ['0'], failed: [{ id: '1', senderFault: true, code: 'InvalidMessageContents' }] });
    expect([sqsRetryable(400, 'ExpiredToken'), sqsRetryable(400, 'AWS.SimpleQueueService.NonExistentQueue'), sqsRetryable(400, 'InvalidMessageContents'), sqsRetryable(413, '')]).toEqual([true, true, false, false]);
  });

  it('strips base64 files from the messages as sqs_strip_base64_files asks', () => {
    const messages = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } }, { type: 'text', text: 'hi' }] }];
    expect(stripBase64(messages)).toEqual([{ role: 'user', content: [{ type: 'image_url', image_url: { url: '[base64 image content redacted]' } }, { type: 'file', file: { file_data: '[base64 PDF content redacted]' } }, { type: 'text', text: 'hi' }] }]);
  });
});

describe('aws_sqs_callback_params in config.yaml', () => {
  it('keeps os.environ/ credentials as names, and warns of a missing queue, plain-text secrets and settings not read', () => {
    const raw = { litellm_settings: { callbacks: ['aws_sqs'], aws_sqs_callback_params: { sqs_queue_url: 'https://sqs.us-west-2.amazonaws.com/1/q', sqs_aws_access_key_id: 'os.environ/MY_ID', sqs_aws_secret_access_key: 'plain-secret', sqs_batch_size: 10, sqs_aws_use_application_level_encryption: true } } };
    const result = validateConfig(raw, { MY_ID: 'AKIA-from-env' });
    expect(result.ok && result.config.litellm_settings.aws_sqs_callback_params?.sqs_aws_access_key_id).toBe('os.environ/MY_ID');
    expect(result.warnings).toEqual(expect.arrayContaining([
      expect.stringContaining('aws_sqs_callback_params.sqs_aws_secret_access_key: compiled into the Worker bundle'),
      expect.stringContaining('aws_sqs_callback_params.sqs_batch_size: not needed'),
      expect.stringContaining('sqs_aws_use_application_level_encryption: not supported'),
    ]));
    expect(result.warnings.join('\n')).not.toContain('plain-secret');
    expect(result.warnings.filter((w) => w.includes('"aws_sqs" is not supported'))).toEqual([]);
    expect(validateConfig({ litellm_settings: { callbacks: ['aws_sqs', 'braintrust'] } }, {}).warnings).toEqual([expect.stringContaining('aws_sqs_callback_params: not set')]);
    expect(validateConfig({ litellm_settings: { aws_sqs_callback_params: { sqs_region_name: 'us west' } } }, {}).ok).toBe(false);
  });
});
