import { errorResponse, GatewayError } from '../errors.ts';
import { readBoundedBytes } from '../openai/read-body.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { googleError } from '../providers/google/errors.ts';
import { VERTEX_LABEL } from '../providers/vertex_ai/target.ts';
import { type IdShown, rewriteIds, rewriteIdStream } from './rewrite.ts';

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
 * says its new length; one past 8 MB is not read on but answered 502, the call's failure (logged, not billed).
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
  let text: string;
  try {
    text = new TextDecoder().decode(await readBoundedBytes(upstream, MAX_JSON_BYTES));
  } catch (err) {
    // A read that broke off fails as the call's other failures do; only one past the bound is this.
    if (!(err instanceof GatewayError) || err.status !== 413) throw err;
    return sized(new GatewayError(`Google's answer to the interaction request is larger than the gateway reads (${MAX_JSON_BYTES / 1024 / 1024} MB): stream it instead`, {
      status: 502, type: 'internal_server_error',
    }));
  }
  let out = text;
  try {
    const value = JSON.parse(text) as unknown;
    if (rewriteIds(value, shown)) out = JSON.stringify(value);
  } catch {
    // Not JSON (an empty deletion): as it came.
  }
  headers.set('content-length', String(new TextEncoder().encode(out).byteLength));
  return new Response(out, { status: upstream.status, headers });
}

/** An error in the gateway's envelope, as an answer of known length (the call reads it whole, as Google's). */
async function sized(error: GatewayError): Promise<Response> {
  const failed = errorResponse(error);
  const text = await failed.text();
  failed.headers.set('content-length', String(new TextEncoder().encode(text).byteLength));
  return new Response(text, { status: failed.status, headers: failed.headers });
}
