/**
 * SQS's query protocol (the one LiteLLM's SQSLogger speaks): a form-encoded `SendMessageBatch` of up to 10
 * messages, and its XML answers: per entry a `SendMessageBatchResultEntry` or a `BatchResultErrorEntry`
 * (`SenderFault` says whether the message itself is at fault), or for the whole request an `ErrorResponse`.
 */

/** SQS's query API version (LiteLLM's SQS_API_VERSION). */
export const SQS_API_VERSION = '2012-11-05';
/** Entries a SendMessageBatch takes at most. */
export const SQS_MAX_ENTRIES = 10;
/** Bytes of message bodies a SendMessageBatch takes at most (256 KiB, the limit every queue has kept). */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

/** Python's `quote(s, safe="")`: everything but letters, digits and `-_.~` percent-encoded, as LiteLLM sends the body. */
const formEncode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The form body of a SendMessageBatch: entry ids are the messages' indexes. */
export function sendMessageBatchBody(messages: readonly { id: string; body: string }[]): string {
  const parts = [`Action=SendMessageBatch`, `Version=${SQS_API_VERSION}`];
  messages.forEach((m, i) => {
    parts.push(`SendMessageBatchRequestEntry.${i + 1}.Id=${formEncode(m.id)}`, `SendMessageBatchRequestEntry.${i + 1}.MessageBody=${formEncode(m.body)}`);
  });
  return parts.join('&');
}

/**
 * Characters a message body may not hold (SQS takes #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF):
 * JSON text escapes every control character but can carry U+FFFE / U+FFFF raw, only inside strings, where
 * its `\u` escape means the same.
 */
export const sqsSafeJson = (json: string): string => json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]{0,256})</${name}>`).exec(xml)?.[1];

export interface BatchOutcome {
  /** Entry ids SQS took. */
  sent: string[];
  /** Entry ids it did not: `senderFault` when the message itself is refused (never worth sending again). */
  failed: { id: string; senderFault: boolean; code: string }[];
}

/** A SendMessageBatch answer's entries (200: some may have failed), from its XML. */
export function batchOutcome(xml: string): BatchOutcome {
  const sent = [...xml.matchAll(/<SendMessageBatchResultEntry>([\s\S]*?)<\/SendMessageBatchResultEntry>/g)].map((m) => tag(m[1] ?? '', 'Id') ?? '');
  const failed = [...xml.matchAll(/<BatchResultErrorEntry>([\s\S]*?)<\/BatchResultErrorEntry>/g)].map((m) => {
    const entry = m[1] ?? '';
    return { id: tag(entry, 'Id') ?? '', senderFault: tag(entry, 'SenderFault') === 'true', code: tag(entry, 'Code') ?? '' };
  });
  return { sent, failed };
}

/** SQS's error code from an ErrorResponse (never its message: it may quote what was signed). */
export const sqsErrorCode = (xml: string): string => tag(xml, 'Code') ?? '';

/**
 * Codes that blame the messages of a request SQS refused whole (too long, characters it does not take): a retry
 * would be refused the same way. Anything else (ExpiredToken, a queue that does not exist, KMS, throttling, the
 * signature) is about the settings or the moment, so the messages wait for a retry.
 */
const MESSAGES_REFUSED = new Set(['AWS.SimpleQueueService.BatchRequestTooLong', 'BatchRequestTooLong', 'InvalidMessageContents', 'InvalidParameterValue', 'MessageTooLong']);

/** Whether a refused SendMessageBatch may pass on a retry: all but a 413 or a 400 that blames the messages. */
export const sqsRetryable = (status: number, code: string): boolean => status !== 413 && !(status === 400 && MESSAGES_REFUSED.has(code));
