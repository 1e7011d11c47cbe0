/**
 * Fake Resend (`POST /emails`) and SendGrid (`POST /v3/mail/send`) APIs on one loopback server, speaking their wire
 * formats: a Bearer key checked against the one expected, the documented request bodies validated, Resend's
 * `{"id"}` 200 and SendGrid's empty 202 on success, and each one's error body on a failure. Resend's `Idempotency-Key`
 * is honoured: a send repeating an accepted key gets the first send's id and sends nothing again. A test scripts the
 * next answers (a 429 with `retry-after`, a 500, a 403) or makes sends hang until released. A refusal with a message
 * echoes the request's Authorization header and its first `<pre>` block (where a new key sits), as a careless API
 * might: what the gateway logs of it must be scrubbed.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type FakeServer, flatHeaders, readBody, serveFake } from './fake-server.ts';

export interface SentEmail {
  provider: 'resend' | 'sendgrid';
  from: string;
  to: string[];
  subject: string;
  html: string;
  headers: Record<string, string>;
}

export type ScriptedFailure = { status: number; retryAfter?: string; message?: string };

export interface FakeEmailProviders extends FakeServer {
  /** Emails accepted, in arrival order. */
  sent: SentEmail[];
  /** Every POST, refused ones included. */
  attempts: number;
  /** When each POST arrived (Date.now()), in arrival order. */
  attemptTimes: number[];
  /** Each POST's Idempotency-Key header (undefined without one), in arrival order. */
  idempotencyKeys: (string | undefined)[];
  /** The next sends get these answers, in order. */
  failNext(...failures: ScriptedFailure[]): void;
  /** Sends wait, unanswered, until `release()`. */
  hang(): void;
  release(): void;
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** Resend's error body; SendGrid's is `{"errors": [{"message"}]}`. A scripted message echoes the request's secrets. */
function refuse(res: ServerResponse, provider: SentEmail['provider'], f: ScriptedFailure, authorization: string, html: string) {
  const echo = ` (sent with ${authorization}: ${/<pre[^>]*>([^<]*)<\/pre>/.exec(html)?.[1] ?? ''})`;
  const message = f.message ? f.message + echo : f.status === 429 ? 'Too many requests' : 'Internal server error';
  res.setHeader('content-type', 'application/json');
  if (f.retryAfter) res.setHeader('retry-after', f.retryAfter);
  const body = provider === 'resend'
    ? { statusCode: f.status, name: f.status === 429 ? 'rate_limit_exceeded' : f.status >= 500 ? 'internal_server_error' : 'validation_error', message }
    : { errors: [{ message, field: null, help: null }] };
  res.writeHead(f.status).end(JSON.stringify(body));
}

export async function startFakeEmailProviders(apiKeys: { resend: string; sendgrid: string }): Promise<FakeEmailProviders> {
  const sent: SentEmail[] = [];
  const idempotencyKeys: (string | undefined)[] = [];
  const attemptTimes: number[] = [];
  const acceptedIds = new Map<string, string>();
  const failures: ScriptedFailure[] = [];
  let hanging: (() => void)[] | undefined;
  const state = { attempts: 0 };

  const server = await serveFake(async (req, res) => {
    const provider = req.url === '/emails' ? 'resend' : req.url === '/v3/mail/send' ? 'sendgrid' : undefined;
    const raw = await readBody(req);
    if (req.method !== 'POST' || !provider) return json(res, 404, { message: 'not found' });
    state.attempts++;
    attemptTimes.push(Date.now());
    if (hanging) await new Promise<void>((resolve) => hanging?.push(resolve));
    const headers = flatHeaders(req);
    idempotencyKeys.push(headers['idempotency-key']);
    if (headers.authorization !== `Bearer ${apiKeys[provider]}`) {
      return provider === 'resend' ? json(res, 401, { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header.' })
        : json(res, 401, { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] });
    }
    const body = JSON.parse(raw.toString('utf8')) as Record<string, any>;
    const failure = failures.shift();
    const html = String(provider === 'resend' ? body.html : body.content?.[0]?.value);
    if (failure) return refuse(res, provider, failure, headers.authorization, html);
    if (provider === 'resend') {
      const repeated = headers['idempotency-key'] && acceptedIds.get(headers['idempotency-key']);
      if (repeated) return json(res, 200, { id: repeated });
      if (typeof body.from !== 'string' || !Array.isArray(body.to) || typeof body.subject !== 'string' || typeof body.html !== 'string') {
        return json(res, 422, { statusCode: 422, name: 'validation_error', message: 'Missing `from`, `to`, `subject` or `html` field.' });
      }
      sent.push({ provider, from: body.from, to: body.to, subject: body.subject, html: body.html, headers });
      const id = randomUUID();
      if (headers['idempotency-key']) acceptedIds.set(headers['idempotency-key'], id);
      return json(res, 200, { id });
    }
    const personalization = body.personalizations?.[0];
    const content = body.content?.find((c: { type?: string }) => c.type === 'text/html');
    if (typeof body.from?.email !== 'string' || !Array.isArray(personalization?.to) || !content) {
      return json(res, 400, { errors: [{ message: 'The personalizations field is required and must have at least one personalization.', field: 'personalizations', help: null }] });
    }
    sent.push({ provider, from: body.from.email, to: personalization.to.map((t: { email: string }) => t.email), subject: personalization.subject ?? body.subject, html: content.value, headers });
    res.writeHead(202).end();
  }, (res) => json(res, 500, { message: 'fake failed' }));

  return {
    ...server,
    sent,
    idempotencyKeys,
    attemptTimes,
    get attempts() {
      return state.attempts;
    },
    failNext: (...f) => void failures.push(...f),
    hang: () => void (hanging = []),
    release: () => {
      const waiting = hanging ?? [];
      hanging = undefined;
      for (const resolve of waiting) resolve();
    },
  };
}
