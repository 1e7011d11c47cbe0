import { errorResponse, GatewayError } from '../errors.ts';
import { readBoundedBytes } from '../openai/read-body.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { googleError } from '../providers/google/errors.ts';
import { VERTEX_LABEL } from '../providers/vertex_ai/target.ts';
import { type IdShown, rewriteIds, rewriteIdStream } from './rewrite.ts';
import { scanUsage } from './oversize.ts';
import { type ReadAnswer, withReadAnswer } from '../passthrough/read-answer.ts';
import type { UsageReport } from '../providers/types.ts';

// Framing headers of Google's answer that no longer hold once its ids are rewritten.
const REFRAMED = ['content-length', 'content-encoding', 'transfer-encoding'];
// The largest JSON answer read whole (pass-through's MAX_BUFFERED_JSON), and of an error's text.
const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/**
 * Google's answer to an Interactions API request as the client gets it: an interaction (or a stream of its
 * events) with its ids as the gateway gives them out (`shown`), status and headers as Google sent them; a
 * failure in the gateway's error envelope, Google's status and `retry-after` kept, its message worded as
 * LiteLLM words Google's, no credential in it (the deployment's, nor `secret`, the one sent). A JSON answer
 * says its new length, encoded once (Google's own bytes when no id changed), and is known to passThroughCall as
 * read (read-answer.ts). One past 8 MB is streamed through for its usage, not held, and answered 502: the
 * call's failure, billed by that usage (Google charged for it), else at its reservation's estimate.
 */
export async function shownAnswer(upstream: Response, shown: IdShown, deployment: DeploymentRef, secret: string | undefined): Promise<Response> {
  if (upstream.status >= 400) {
    const label = deployment.provider === 'gemini' ? 'Gemini' : VERTEX_LABEL;
    const secrets = [deployment.params.api_key, deployment.params.vertex_credentials, secret].filter((s): s is string => typeof s === 'string' && s !== '');
    // An error's text is read up to a bound: past it, Google's status alone says what failed.
    const said = await readBoundedBytes(upstream, MAX_ERROR_BYTES).then((b) => new TextDecoder().decode(b), () => '');
    const bounded = new Response(said, { status: upstream.status, statusText: upstream.statusText, headers: upstream.headers });
    return sized(await googleError(bounded, label, deployment.provider, secrets));
  }
  const headers = new Headers(upstream.headers);
  for (const name of REFRAMED) headers.delete(name);
  const type = headers.get('content-type') ?? '';
  if (!upstream.body) return new Response(null, { status: upstream.status, headers });
  if (/^text\/event-stream/i.test(type)) {
    return new Response(upstream.body.pipeThrough(rewriteIdStream(shown)), { status: upstream.status, headers });
  }
  // A declared length past the bound is not held at all: the body streams through the usage scanner.
  const declared = Number(upstream.headers.get('content-length') ?? NaN);
  const reader = upstream.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    if (declared > MAX_JSON_BYTES) return tooLarge(await scanUsage(chunks, reader));
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_JSON_BYTES) return tooLarge(await scanUsage(chunks, reader));
  }
  const bytes = joined(chunks, size);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    // Not JSON (an empty deletion): as it came.
    headers.set('content-length', String(bytes.byteLength));
    return withReadAnswer(new Response(bytes, { status: upstream.status, headers }), { bytes });
  }
  // Encoded once, and only when an id changed: else Google's own bytes go on.
  const out: Uint8Array<ArrayBuffer> = rewriteIds(value, shown) ? new TextEncoder().encode(JSON.stringify(value)) as Uint8Array<ArrayBuffer> : bytes;
  headers.set('content-length', String(out.byteLength));
  return withReadAnswer(new Response(out, { status: upstream.status, headers }), { bytes: out, value });
}

/**
 * The 502 for a JSON answer past the bound, which the client does not get; Google charged for it all the same,
 * so the call is billed by the usage read on the way through (else at its reservation's estimate).
 */
async function tooLarge(usage: UsageReport | undefined): Promise<Response> {
  return sized(new GatewayError(`Google's answer to the interaction request is larger than the gateway reads (${MAX_JSON_BYTES / 1024 / 1024} MB): stream it instead`, {
    status: 502, type: 'internal_server_error',
  }), usage ?? 'estimate');
}

/** The chunks read, as one buffer. */
function joined(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** An error in the gateway's envelope, as an answer of known length, known as read (and, when Google charged for it, its usage). */
async function sized(error: GatewayError, charged?: ReadAnswer['charged']): Promise<Response> {
  const failed = errorResponse(error);
  const bytes = new Uint8Array(await failed.arrayBuffer());
  failed.headers.set('content-length', String(bytes.byteLength));
  return withReadAnswer(new Response(bytes, { status: failed.status, headers: failed.headers }), { bytes, ...(charged ? { charged } : {}) });
}
