/**
 * A fake Amazon SQS queue on loopback speaking the query protocol (what LiteLLM's SQSLogger and the AWS CLI's
 * older versions send): `POST /<account>/<queue>` with a form body, `Action=SendMessage` or
 * `Action=SendMessageBatch` (`SendMessageBatchRequestEntry.N.Id` / `.MessageBody`), `Version=2012-11-05`, signed
 * with AWS SigV4 for service `sqs` (checked by sigv4-verifier.ts against the test credentials). Answers are SQS's
 * XML: `SendMessageBatchResponse` with a `SendMessageBatchResultEntry` or `BatchResultErrorEntry` per entry, or
 * an `ErrorResponse`. It enforces SQS's limits (10 entries, distinct ids, 256 KiB of bodies: a
 * `BatchRequestTooLong` 400), and can be told to fail whole requests (`failNext`), to refuse entries holding a
 * text (SenderFault, `InvalidMessageContents`) or to fail them on its side a number of times (`InternalError`).
 */
import { createHash } from 'node:crypto';
import { serveBodies } from './fake-server.ts';
import { type AwsTestCredentials, verifySigV4 } from './sigv4-verifier.ts';

export interface SqsMessage { body: string; headers: Record<string, string>; action: string }

export interface FakeSqs {
  url: string;
  /** The queue's URL (`<url>/123456789012/<queue>`). */
  queueUrl: string;
  /** Messages the queue took, in order. */
  messages: SqsMessage[];
  /** Requests answered with a failNext() status (the code). */
  refused: string[];
  /** Entries answered as failed: `<code>` for each. */
  entryFailures: string[];
  /** Requests refused for their signature or form (the reason). */
  rejected: string[];
  /** Requests made, with their entry count. */
  requests: number[];
  failNext(status: number, times?: number, code?: string): void;
  /** Entries whose body holds `text` are refused as such (SenderFault true, InvalidMessageContents). */
  refuseEntriesWith(text: string | undefined): void;
  /** The next `times` entries whose body holds `text` fail on SQS's side (SenderFault false, InternalError). */
  failEntriesWith(text: string, times: number): void;
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const NS = 'http://queue.amazonaws.com/doc/2012-11-05/';

const errorXml = (type: 'Sender' | 'Receiver', code: string, message: string) =>
  `<?xml version="1.0"?><ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Detail/></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;

export async function startFakeSqs(options: AwsTestCredentials & { region: string; queue?: string }): Promise<FakeSqs> {
  const queuePath = `/123456789012/${options.queue ?? 'tollgate-logs'}`;
  let failing = { status: 0, times: 0, code: '' };
  let refuseText: string | undefined;
  let flaky = { text: '', times: 0 };
  const fake: Omit<FakeSqs, 'url' | 'queueUrl' | 'close'> = {
    messages: [], refused: [], entryFailures: [], rejected: [], requests: [],
    failNext(status, times = 1, code = status >= 500 ? 'ServiceUnavailable' : 'InvalidParameterValue') {
      failing = { status, times, code };
    },
    refuseEntriesWith(text) {
      refuseText = text;
    },
    failEntriesWith(text, times) {
      flaky = { text, times };
    },
  };
  const server = await serveBodies('fake SQS', (req, res, raw, headers) => {
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    };
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const check = verifySigV4({ method: req.method ?? '', rawPath, query: {}, headers, body: raw }, options, { service: 'sqs', region: options.region });
    if (!check.ok) {
      fake.rejected.push(check.reason);
      return reply(403, errorXml('Sender', 'SignatureDoesNotMatch', check.reason));
    }
    if (req.method !== 'POST' || !String(headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      fake.rejected.push(`${req.method} ${headers['content-type']}`);
      return reply(400, errorXml('Sender', 'InvalidAction', 'expected a form POST'));
    }
    if (rawPath !== queuePath) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.'));
    const form = new URLSearchParams(raw.toString('utf8'));
    const action = form.get('Action') ?? '';
    if (form.get('Version') !== '2012-11-05') return reply(400, errorXml('Sender', 'InvalidParameterValue', 'Version'));
    let entries: { id: string; body: string }[];
    if (action === 'SendMessage') entries = [{ id: '', body: form.get('MessageBody') ?? '' }];
    else if (action === 'SendMessageBatch') {
      entries = [];
      for (let n = 1; form.has(`SendMessageBatchRequestEntry.${n}.Id`); n++) {
        entries.push({ id: form.get(`SendMessageBatchRequestEntry.${n}.Id`)!, body: form.get(`SendMessageBatchRequestEntry.${n}.MessageBody`) ?? '' });
      }
      if (!entries.length) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.EmptyBatchRequest', 'no entries'));
      if (entries.length > 10) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'too many entries'));
      if (new Set(entries.map((e) => e.id)).size !== entries.length) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'ids'));
      if (entries.some((e) => !/^[A-Za-z0-9_-]{1,80}$/.test(e.id))) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.InvalidBatchEntryId', 'id'));
    } else return reply(400, errorXml('Sender', 'InvalidAction', `action ${action}`));
    fake.requests.push(entries.length);
    if (entries.reduce((n, e) => n + Buffer.byteLength(e.body), 0) > 256 * 1024) return reply(400, errorXml('Sender', 'AWS.SimpleQueueService.BatchRequestTooLong', 'Batch requests cannot be longer than 262144 bytes.'));
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.code);
      return reply(failing.status, errorXml(failing.status >= 500 ? 'Receiver' : 'Sender', failing.code, 'refused by the test'));
    }
    const results: string[] = [];
    for (const entry of entries) {
      let fault: { sender: boolean; code: string } | undefined;
      if (refuseText && entry.body.includes(refuseText)) fault = { sender: true, code: 'InvalidMessageContents' };
      else if (flaky.times > 0 && entry.body.includes(flaky.text)) {
        flaky.times--;
        fault = { sender: false, code: 'InternalError' };
      }
      if (fault) {
        fake.entryFailures.push(fault.code);
        if (action === 'SendMessage') return reply(fault.sender ? 400 : 500, errorXml(fault.sender ? 'Sender' : 'Receiver', fault.code, 'entry refused'));
        results.push(`<BatchResultErrorEntry><Id>${entry.id}</Id><SenderFault>${fault.sender}</SenderFault><Code>${fault.code}</Code><Message>refused by the test</Message></BatchResultErrorEntry>`);
        continue;
      }
      fake.messages.push({ body: entry.body, headers, action });
      const id = crypto.randomUUID();
      results.push(action === 'SendMessage'
        ? `<MD5OfMessageBody>${md5(entry.body)}</MD5OfMessageBody><MessageId>${id}</MessageId>`
        : `<SendMessageBatchResultEntry><Id>${entry.id}</Id><MessageId>${id}</MessageId><MD5OfMessageBody>${md5(entry.body)}</MD5OfMessageBody></SendMessageBatchResultEntry>`);
    }
    return reply(200, `<?xml version="1.0"?><${action}Response xmlns="${NS}"><${action}Result>${results.join('')}</${action}Result><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></${action}Response>`);
  });
  return Object.assign(fake, { url: server.url, queueUrl: `${server.url}${queuePath}`, close: server.close });
}
