/**
 * A fake Google Cloud Pub/Sub on loopback, with Google's OAuth token endpoint beside it: `POST /token` takes a
 * jwt-bearer grant whose RS256 assertion, for the Pub/Sub scope, checks out against the test service account's
 * public key (node:crypto; fakes/google.ts) and hands out numbered tokens; `POST /v1/projects/<project>/topics/<topic>:publish`
 * takes `{messages: [{data: <base64>}, ...]}` (1 to 1000 messages, each with data) when its `Authorization: Bearer`
 * is a token it issued, and answers `{messageIds}`. Failures are Google's JSON error shape
 * (`{error: {code, message, status}}`): a wrong token 401 UNAUTHENTICATED, an unknown topic 404 NOT_FOUND, a
 * malformed publish 400 INVALID_ARGUMENT; it can be told to fail the next publishes (403 PERMISSION_DENIED,
 * 429 RESOURCE_EXHAUSTED with retry-after, 400 FAILED_PRECONDITION, 503 UNAVAILABLE, ...; a 413 is the Google
 * front end's HTML page, as a too-large request gets), to revoke its tokens, or to answer a publish with another 2xx.
 */
import { serveBodies } from './fake-server.ts';
import { type JwtCheck, type TestServiceAccount, testServiceAccount, verifyAssertion } from './google.ts';

export interface PubSubMessage {
  /** The message's data, decoded from base64. */
  data: string;
  /** The publish request's headers. */
  headers: Record<string, string>;
}

export interface FakePubSub {
  url: string;
  tokenUri: string;
  account: TestServiceAccount;
  tokenChecks: JwtCheck[];
  /** Messages published (200), in order. */
  messages: PubSubMessage[];
  /** Messages per publish taken, in order. */
  publishes: number[];
  /** Publishes answered with a failNext() status. */
  refused: { status: number; messages: number }[];
  /** Publishes refused for their form or credentials (why). */
  rejected: string[];
  /**
   * The next `times` publishes are answered `status` in Google's shape, with `code` (Google's status string) or the
   * status's usual one; with `echo`, the message quotes the request's token.
   */
  failNext(status: number, times?: number, options?: { echo?: boolean; code?: string }): void;
  /** The tokens handed out so far are refused from now on (401 UNAUTHENTICATED), as a revoked token is. */
  revoke(): void;
  /** While true, every token is refused, a new one too (a token Pub/Sub does not take from that account). */
  refuseTokens: boolean;
  /** The status a publish taken is answered with (Pub/Sub's 200; a proxy in front may answer 202). */
  publishedStatus: number;
  close(): Promise<void>;
}

const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';
/** What the Google front end answers a request too large for it: an HTML page, not Google's JSON error. */
const TOO_LARGE_PAGE = '<!DOCTYPE html>\n<html lang=en><title>Error 413 (Request Entity Too Large)!!1</title><p><b>413.</b> <ins>That’s an error.</ins><p>Your client issued a request that was too large. <ins>That’s all we know.</ins>';

/** Google's canonical codes for the statuses the fake answers. */
const STATUSES: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE',
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export async function startFakePubSub(options: { project: string; topic: string }): Promise<FakePubSub> {
  const issued = new Set<string>();
  let handedOut = 0;
  let messageIds = 0;
  let failing: { status: number; times: number; echo: boolean; code?: string } | undefined;
  const fake = {
    tokenChecks: [] as JwtCheck[], messages: [] as PubSubMessage[], publishes: [] as number[], refused: [] as FakePubSub['refused'], rejected: [] as string[],
    refuseTokens: false, publishedStatus: 200,
    failNext(status: number, times = 1, options: { echo?: boolean; code?: string } = {}) {
      failing = { status, times, echo: options.echo === true, code: options.code };
    },
    revoke() {
      issued.clear();
    },
  };
  let account: TestServiceAccount;
  let tokenUri = '';
  const server = await serveBodies('fake Pub/Sub', (req, res, bytes, headers) => {
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...extra });
      res.end(JSON.stringify(body));
    };
    const googleError = (status: number, message: string, extra: Record<string, string> = {}, code = STATUSES[status] ?? 'UNKNOWN') => json(status, { error: { code: status, message, status: code } }, extra);
    const body = bytes.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'POST' && url.pathname === '/token') {
      const check = headers['content-type'] === 'application/x-www-form-urlencoded'
        ? verifyAssertion(new URLSearchParams(body), account, tokenUri, Date.now(), PUBSUB_SCOPE)
        : { ok: false as const, reason: `content-type ${headers['content-type']}` };
      fake.tokenChecks.push(check);
      if (!check.ok) return json(400, { error: 'invalid_grant', error_description: check.reason });
      const token = `ya29.pubsub-test-token-${++handedOut}`;
      issued.add(token);
      return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const publish = /^\/v1\/projects\/([^/]+)\/topics\/([^/]+):publish$/.exec(url.pathname);
    if (req.method !== 'POST' || !publish) return googleError(404, 'Not Found');
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (!token || !issued.has(token) || fake.refuseTokens) {
      fake.rejected.push(`token ${!token ? 'missing' : issued.has(token) ? 'refused' : 'not issued'}`);
      return googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (publish[1] !== options.project || publish[2] !== options.topic) return googleError(404, `Resource not found (resource=${publish[2]}).`);
    let messages: unknown;
    try {
      messages = (JSON.parse(body) as { messages?: unknown }).messages;
    } catch {
      fake.rejected.push('body is not JSON');
      return googleError(400, 'Invalid JSON payload received.');
    }
    const valid = headers['content-type']?.startsWith('application/json') && Array.isArray(messages) && messages.length >= 1 && messages.length <= 1000
      && messages.every((m) => typeof (m as { data?: unknown })?.data === 'string' && (m as { data: string }).data !== '' && BASE64.test((m as { data: string }).data));
    if (!valid) {
      fake.rejected.push(`publish of ${Array.isArray(messages) ? messages.length : typeof messages} messages, content-type ${headers['content-type']}`);
      return googleError(400, 'The value for message_count is too large / a message has no data.');
    }
    const list = messages as { data: string }[];
    if (failing && failing.times > 0) {
      failing.times--;
      fake.refused.push({ status: failing.status, messages: list.length });
      if (failing.status === 413) {
        res.writeHead(413, { 'content-type': 'text/html; charset=UTF-8' });
        return res.end(TOO_LARGE_PAGE);
      }
      const echo = failing.echo ? `: you sent ${headers.authorization}` : '';
      return googleError(failing.status, `refused by the test${echo}`, failing.status === 429 ? { 'retry-after': '1' } : {}, failing.code);
    }
    fake.publishes.push(list.length);
    for (const m of list) fake.messages.push({ data: Buffer.from(m.data, 'base64').toString('utf8'), headers });
    return json(fake.publishedStatus, { messageIds: list.map(() => String(++messageIds)) });
  });
  const { url } = server;
  tokenUri = `${url}/token`;
  account = testServiceAccount(tokenUri);
  return Object.assign(fake, { url, tokenUri, account, close: server.close });
}
