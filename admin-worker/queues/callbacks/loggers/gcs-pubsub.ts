/**
 * LiteLLM's `gcs_pubsub` callback (GcsPubSubLogger, Enterprise there): each successful call's
 * StandardLoggingPayload (LiteLLM's default; its `gcs_pub_sub_use_v1` spend-log rows are not built) as one Pub/Sub
 * message whose `data` is the payload's JSON in base64, published to `GCS_PUBSUB_TOPIC_ID` of
 * `GCS_PUBSUB_PROJECT_ID` with `POST <GCS_PUBSUB_API_BASE>/v1/projects/<project>/topics/<topic>:publish`
 * (`{messages: [{data}, ...]}`, default base https://pubsub.googleapis.com) and an OAuth2 access token of the
 * service account in `GCS_PATH_SERVICE_ACCOUNT` (the key's JSON, as the gcs_bucket logger takes it). LiteLLM
 * publishes one message a request; here a request carries up to Pub/Sub's 1000.
 */
import { base64Bytes } from '../../../../worker/providers/openai-compatible/ocr.ts';
import type { ServiceAccount } from '../../../../worker/providers/vertex_ai/service-account.ts';
import type { EventSegment } from '../segment.ts';
import { payloadsOf, unreadable } from './payloads.ts';
import { serviceAccountOf, ServiceAccountTokens } from './service-account-tokens.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, POST_TIMEOUT_MS } from './types.ts';

export interface PubSubTarget {
  /** The topic's publish URL. */
  url: string;
  account: ServiceAccount;
}

/** Google's project id (6 to 30 characters), with the older domain-scoped form (`example.com:my-project`). */
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Pub/Sub's rule for a topic id: a letter, then 2 to 254 letters, digits and `-_.~+%`. */
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** The topic's publish URL and the service account from the admin Worker's env, or why nothing can be published. */
export function pubSubTargetOf(env: LoggerEnv): PubSubTarget | { error: string } {
  const project = envText(env, 'GCS_PUBSUB_PROJECT_ID');
  const topic = envText(env, 'GCS_PUBSUB_TOPIC_ID');
  if (!project || !topic) return { error: 'GCS_PUBSUB_PROJECT_ID and GCS_PUBSUB_TOPIC_ID must both be set for the admin Worker' };
  if (!PROJECT_ID.test(project)) return { error: 'GCS_PUBSUB_PROJECT_ID is not a Google Cloud project id' };
  if (!TOPIC_ID.test(topic) || topic.startsWith('goog')) return { error: 'GCS_PUBSUB_TOPIC_ID is not a Pub/Sub topic id (the id alone, not projects/.../topics/...)' };
  const key = serviceAccountOf(env);
  if ('error' in key) return key;
  const base = httpUrl(envText(env, 'GCS_PUBSUB_API_BASE') ?? 'https://pubsub.googleapis.com', 'GCS_PUBSUB_API_BASE');
  if ('error' in base) return base;
  const url = `${base.toString().replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(project)}/topics/${encodeURIComponent(topic)}:publish`;
  return { url, account: key.account };
}

/**
 * The tokens this logger sends, for Pub/Sub alone (a token leaked from GCS_PUBSUB_API_BASE's host opens no other
 * Google API), kept per isolate apart from gcs_bucket's cloud-platform ones.
 */
const tokens = new ServiceAccountTokens({ logger: 'gcs_pubsub', service: 'Pub/Sub', scope: 'https://www.googleapis.com/auth/pubsub' });

const encoder = new TextEncoder();

/** The publish request's body, `{"messages":[{"data":"<base64 of the payload's JSON>"},...]}`, with no string of it whole. */
function publishBody(payloads: readonly unknown[]): Blob {
  const parts: (string | Uint8Array<ArrayBuffer>)[] = ['{"messages":['];
  payloads.forEach((p, i) => parts.push(i ? ',{"data":"' : '{"data":"', base64Bytes(encoder.encode(JSON.stringify(p))), '"}'));
  parts.push(']}');
  return new Blob(parts);
}

/** Google's error status from its JSON answer (`error.status`, e.g. NOT_FOUND), never the message. */
function errorStatus(text: string): string {
  try {
    const status = (JSON.parse(text) as { error?: { status?: unknown } }).error?.status;
    return typeof status === 'string' ? status.slice(0, 64) : '';
  } catch {
    return '';
  }
}

/**
 * Whether Pub/Sub's refusal may pass: every answer but one that blames the messages themselves (413, or a 400
 * INVALID_ARGUMENT). Its other 400s (FAILED_PRECONDITION: a topic's CMEK key or state), 401, 403 PERMISSION_DENIED,
 * 404 NOT_FOUND (no such topic), 429 RESOURCE_EXHAUSTED and 5xx are settings or Pub/Sub to wait for.
 */
const pubSubRetryable = (status: number, code: string): boolean => !(status === 413 || (status === 400 && code === 'INVALID_ARGUMENT'));

/**
 * One publish of these payloads, classified as the dispatcher wants it: any 2xx is published (LiteLLM's 200 or
 * 202); messages Pub/Sub refuses as such are split, then dropped; the rest is retried (pubSubRetryable). A 401 drops
 * the kept token, so the retry asks for a new one. `fresh`: the tokens exchanged during this batch (one set a batch).
 */
async function publishPayloads(target: PubSubTarget, payloads: readonly unknown[], fresh = new Set<string>()): Promise<PostResult> {
  if (!payloads.length) return { ok: true };
  const token = await tokens.token(target.account, fresh);
  if (typeof token !== 'string') return token;
  try {
    const res = await fetch(target.url, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: publishBody(payloads), signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual',
    });
    const answer = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const status = errorStatus(answer);
    const refused = res.status === 401 ? tokens.refused(target.account, token, fresh, status) : undefined;
    if (refused) return refused;
    return { ok: false, retry: pubSubRetryable(res.status, status), reason: `HTTP ${res.status}${status ? ` ${status}` : ''}` };
  } catch (err) {
    return networkFailure(err);
  }
}

/** Bytes of a Pub/Sub message's envelope around its base64 data (`{"data":""},`). */
const MESSAGE_OVERHEAD = 12;

export const gcsPubSubPoster: LoggerPoster = {
  // Pub/Sub's limits for one publish: 1000 messages and 10 MB, counted on the base64 the request carries.
  maxPayloads: 1000,
  maxBytes: 9 * 1024 * 1024,
  requestBytes: (segment: EventSegment) => Math.ceil(segment.bytes.byteLength / 3) * 4 + segment.events * (MESSAGE_OVERHEAD + 4),
  target(env: LoggerEnv) {
    const target = pubSubTargetOf(env);
    // Kept for a retry (the dead-letter queue at worst), as gcs_bucket's: a key file's path passed where no
    // `npm start` reads it loses no payload while its operator mends the setting.
    if ('error' in target) return { error: target.error, retry: true };
    const fresh = new Set<string>();
    return {
      where: new URL(target.url).origin,
      post: async (segments) => {
        let payloads: unknown[];
        try {
          // A failed call is not published, as in LiteLLM (the gateway queues none; an older message might hold one).
          payloads = payloadsOf(segments).filter((p) => p.status !== 'failure');
        } catch (err) {
          return unreadable(err);
        }
        return publishPayloads(target, payloads, fresh);
      },
    };
  },
};
