/**
 * LiteLLM's `aws_sqs` callback (SQSLogger, sqs.py): each StandardLoggingPayload's JSON as one message of the
 * queue at `litellm_settings.aws_sqs_callback_params.sqs_queue_url`, sent with SQS's query protocol and AWS SigV4
 * (service `sqs`) as LiteLLM sends them, up to 10 a `SendMessageBatch` where LiteLLM makes one `SendMessage` each
 * (sqs-wire.ts). Credentials are the params' (`os.environ/NAME` read from this Worker's env when it sends), else
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, as boto3 finds them.
 */
import { REGION_NAME } from '../../../../worker/config/s3-callback-schema.ts';
import type { SqsCallbackParams } from '../../../../worker/config/sqs-callback-schema.ts';
import { authHeaders, type BedrockAuth } from '../../../../worker/providers/bedrock/auth.ts';
import { log } from '../../../../worker/telemetry/log.ts';
import type { EventSegment } from '../segment.ts';
import { awsCredentials } from './aws-credentials.ts';
import { payloadId, payloadSegments } from './payload-split.ts';
import { batchOutcome, sendMessageBatchBody, SQS_MAX_BATCH_BYTES, SQS_MAX_ENTRIES, sqsErrorCode, sqsRetryable, sqsSafeJson } from './sqs-wire.ts';
import { configuredTarget, envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, POST_TIMEOUT_MS } from './types.ts';

/** LiteLLM's region for calls that are not an LLM's when none is given. */
const DEFAULT_REGION = 'us-east-1';
/** Sends of a batch's entries SQS failed on its side (SenderFault false), in one post: AWS's advice is to resend only those. */
const ENTRY_ATTEMPTS = 3;

type Sigv4 = Extract<BedrockAuth, { kind: 'sigv4' }>;
export interface SqsTarget { url: URL; auth: Sigv4; stripBase64: boolean }

const utf8 = new TextDecoder();

/** The region an SQS queue URL names (`sqs.<region>.amazonaws.com`, or the legacy `<region>.queue.amazonaws.com`). */
export const regionOfQueueUrl = (url: URL): string | undefined =>
  /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];

/** The queue and credentials from config.yaml and this Worker's env, or why no message can be sent. */
export function sqsTargetOf(params: SqsCallbackParams | undefined, env: LoggerEnv): SqsTarget | { error: string } {
  if (!params?.sqs_queue_url) return { error: 'litellm_settings.aws_sqs_callback_params.sqs_queue_url is not set' };
  // Never the payloads in the clear where the operator asked for them encrypted.
  if (params.sqs_aws_use_application_level_encryption) return { error: 'sqs_aws_use_application_level_encryption is not supported by Tollgate yet, so nothing is sent' };
  const url = httpUrl(params.sqs_queue_url, 'sqs_queue_url');
  if ('error' in url) return url;
  const creds = awsCredentials({ accessKeyId: params.sqs_aws_access_key_id, secretAccessKey: params.sqs_aws_secret_access_key, sessionToken: params.sqs_aws_session_token }, env, 'sqs', 'aws_sqs_callback_params');
  if ('error' in creds) return creds;
  const region = params.sqs_region_name ?? regionOfQueueUrl(url) ?? envText(env, 'AWS_REGION_NAME') ?? envText(env, 'AWS_REGION') ?? DEFAULT_REGION;
  if (!REGION_NAME.test(region)) return { error: 'the SQS region (sqs_region_name, else the queue URL\'s, AWS_REGION_NAME or AWS_REGION) is not a region name such as us-east-1' };
  return { url, auth: { kind: 'sigv4', ...creds.auth, region }, stripBase64: params.sqs_strip_base64_files === true };
}

const BASE64_DATA = /^data:([^;]+);base64,[A-Za-z0-9+/=\n\r]+/;
const placeholder = (mime: string): string =>
  mime.startsWith('application/pdf') ? '[base64 PDF content redacted]'
    : mime.startsWith('image/') ? '[base64 image content redacted]'
      : mime.startsWith('audio/') ? '[base64 audio content redacted]' : '[base64 file content redacted]';

/** LiteLLM's `sqs_strip_base64_files`: an object's string values that are base64 data URLs, in the messages, made placeholders. */
export function stripBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripBase64);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const m = typeof v === 'string' ? BASE64_DATA.exec(v) : null;
    out[k] = m ? placeholder(m[1] ?? '') : stripBase64(v);
  }
  return out;
}

interface Message { id: string; body: string; segment: EventSegment }

/** One payload's message body: its JSON as the gateway wrote it (parsed only to strip base64 files). */
function messageBody(segment: EventSegment, strip: boolean): string {
  const text = utf8.decode(segment.bytes);
  if (!strip) return sqsSafeJson(text);
  const payload = JSON.parse(text) as Record<string, unknown>;
  if (payload.messages) payload.messages = stripBase64(payload.messages);
  return sqsSafeJson(JSON.stringify(payload));
}

/** One signed SendMessageBatch: the entries' outcome, or why SQS took none. */
async function sendBatch(target: SqsTarget, messages: readonly Message[]): Promise<ReturnType<typeof batchOutcome> | PostResult> {
  const body = sendMessageBatchBody(messages);
  const headers = await authHeaders(target.auth, target.url, body, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'sqs');
  try {
    const res = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual' });
    const answer = await res.text().catch(() => '');
    if (res.status === 200) return batchOutcome(answer);
    const code = sqsErrorCode(answer);
    return { ok: false, retry: sqsRetryable(res.status, code), reason: `HTTP ${res.status}${code ? ` ${code}` : ''}` };
  } catch (err) {
    return networkFailure(err);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends the segments' payloads as one batch. Entries SQS fails on its side are sent again (only they) up to
 * ENTRY_ATTEMPTS requests in all, also when such a later request fails whole (5xx, throttled, unreachable);
 * still failing, the request is retried whole by the dispatcher, which can only retry whole queue messages, so
 * the entries SQS took are sent again (SQS queues deliver at least once anyway). Entries refused as such (SenderFault) are the payloads' fault: when none was taken the
 * dispatcher splits the request to find them; when others were, they are logged and dropped here, and said in
 * `dropped` (the dispatcher counts a failure), since it can only retry or split whole requests and would send
 * the taken ones twice.
 */
export async function postToQueue(target: SqsTarget, segments: readonly EventSegment[]): Promise<PostResult> {
  let messages: Message[];
  try {
    messages = segments.flatMap((s) => (s.events > 1 ? payloadSegments(s) : [s])).map((segment, i) => ({ id: String(i), body: messageBody(segment, target.stripBase64), segment }));
  } catch (err) {
    return { ok: false, retry: false, reason: `payloads that do not parse: ${err instanceof Error ? err.message : String(err)}` };
  }
  let pending = messages;
  let taken = 0;
  const refused: { message: Message; code: string }[] = [];
  for (let attempt = 1; pending.length; attempt++) {
    const outcome = await sendBatch(target, pending);
    if ('ok' in outcome) {
      // Once SQS took some entries, a failed request of the rest is tried again here (only the rest), not retried whole.
      if (outcome.ok || !taken) return outcome;
      if (!outcome.retry || attempt >= ENTRY_ATTEMPTS) return { ...outcome, reason: `${outcome.reason} (after SQS took ${taken} of ${messages.length} messages, which a retry sends again)` };
      await sleep(100 * attempt);
      continue;
    }
    const sent = new Set(outcome.sent);
    taken += pending.filter((m) => sent.has(m.id)).length;
    const faults = new Map(outcome.failed.map((f) => [f.id, f]));
    for (const m of pending) {
      const fault = faults.get(m.id);
      if (fault?.senderFault) refused.push({ message: m, code: fault.code });
    }
    // Failed on SQS's side, or missing from the answer: sent again.
    const again = pending.filter((m) => !sent.has(m.id) && !faults.get(m.id)?.senderFault);
    if (again.length && attempt >= ENTRY_ATTEMPTS) {
      const codes = [...new Set(again.map((m) => faults.get(m.id)?.code || 'no answer'))].join(', ');
      return { ok: false, retry: true, reason: `SQS did not take ${again.length} of ${messages.length} messages after ${ENTRY_ATTEMPTS} tries (${codes})` };
    }
    pending = again;
    if (pending.length) await sleep(100 * attempt);
  }
  if (!refused.length) return { ok: true };
  const codes = [...new Set(refused.map((r) => r.code))].join(', ');
  if (taken === 0) return { ok: false, retry: false, reason: `SQS refused ${refused.length === 1 ? 'the message' : `${refused.length} messages`} (${codes})` };
  for (const { message, code } of refused) log.error(`aws_sqs callback: SQS refused the payload of call ${payloadId(message.segment)} (${code}) in a batch it took the rest of, dropped`);
  return { ok: true, dropped: `SQS refused ${refused.length} of ${messages.length} messages, dropped (${codes})` };
}

export const sqsPoster: LoggerPoster = {
  maxPayloads: SQS_MAX_ENTRIES,
  // Measured as the payloads' JSON (and a comma each); the form encoding is not counted by SQS.
  maxBytes: SQS_MAX_BATCH_BYTES - 2 * SQS_MAX_ENTRIES,
  target(env: LoggerEnv) {
    return configuredTarget(env, (config) => config.litellm_settings.aws_sqs_callback_params, (params) => {
      const target = sqsTargetOf(params, env);
      if ('error' in target) return target;
      return { where: target.url.origin, post: (segments) => postToQueue(target, segments) };
    });
  },
};
