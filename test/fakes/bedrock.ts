/**
 * Fake Bedrock runtime behaviours for the scriptable fake upstream: each
 * request's SigV4 signature is recomputed independently (sigv4-verifier.ts)
 * and a wrong one is refused as AWS refuses it; a correct one gets the
 * scripted answer: JSON, an error, or an event stream written in pieces.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { concatBytes } from './aws-eventstream.ts';
import { converseRefusal } from './bedrock-checks.ts';
import { type AwsTestCredentials, type SigV4Check, verifySigV4 } from './sigv4-verifier.ts';
import type { Behaviour, RecordedRequest } from './upstream.ts';

export type BedrockAnswer =
  | { kind: 'json'; body: unknown; status?: number; headers?: Record<string, string> }
  /** `x-amzn-ErrorType` is set from `type`, as Bedrock does. */
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> }
  /** Frames concatenated and written `pieceBytes` at a time, so pieces end mid-frame. */
  | { kind: 'eventstream'; frames: Uint8Array[]; pieceBytes?: number };

export interface SignedBedrock {
  credentials: AwsTestCredentials;
  region: string;
  /** Every signature check, in request order. */
  checks: SigV4Check[];
  reply(answer: BedrockAnswer): Behaviour;
}

export function signedBedrock(credentials: AwsTestCredentials, region: string): SignedBedrock {
  const checks: SigV4Check[] = [];
  return {
    credentials,
    region,
    checks,
    reply: (answer) => ({
      kind: 'handler',
      handle: (request: RecordedRequest, res: ServerResponse) => {
        const check = verifySigV4(
          { method: request.method, rawPath: request.path, query: request.query, headers: request.headers, body: request.rawBody },
          credentials,
          { service: 'bedrock', region },
        );
        checks.push(check);
        if (!check.ok) {
          return send(res, 403, { message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' }, {
            'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/',
          });
        }
        // Converse refuses a malformed conversation before any scripted answer, as Bedrock does.
        const refusal = /\/converse(-stream)?$/.test(request.path) ? converseRefusal(request.body as Record<string, unknown>) : undefined;
        if (refusal) return respond(res, { kind: 'error', status: 400, type: 'ValidationException', message: refusal });
        return answer.kind === 'eventstream' ? stream(res, answer.frames, answer.pieceBytes ?? 7) : respond(res, answer);
      },
    }),
  };
}

function respond(res: ServerResponse, answer: Exclude<BedrockAnswer, { kind: 'eventstream' }>): void {
  if (answer.kind === 'json') return send(res, answer.status ?? 200, answer.body, answer.headers);
  send(res, answer.status, { message: answer.message }, { 'x-amzn-errortype': `${answer.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...answer.headers });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': 'c2b8a3f0-0000-4000-8000-000000000001', ...headers });
  res.end(text);
}

async function stream(res: ServerResponse, frames: Uint8Array[], pieceBytes: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'c2b8a3f0-0000-4000-8000-000000000002' });
  res.flushHeaders();
  const bytes = concatBytes(frames);
  for (let i = 0; i < bytes.length && !res.destroyed; i += pieceBytes) {
    await new Promise<void>((resolve) => res.write(bytes.subarray(i, i + pieceBytes), () => resolve()));
    if (i % (pieceBytes * 16) === 0) await sleep(1);
  }
  if (!res.destroyed) res.end();
}
