/**
 * One POST to a translated provider, bounded the way the OpenAI-compatible
 * base bounds its calls: a plain call by the timeout as a whole, a stream
 * until its first body byte. Provider-neutral.
 */
import { GatewayError } from '../../errors.ts';
import { withFirstChunk } from '../first-chunk.ts';
import { connectionError, timeoutError } from '../openai-compatible/errors.ts';

export interface UpstreamPost {
  url: URL;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
  timeoutMs: number;
  /** `Bedrock` → "BedrockException" in messages. */
  label: string;
  provider: string;
  /** Maps a non-2xx response to the gateway's error. */
  failure(res: Response): Promise<GatewayError>;
}

export interface UpstreamReply {
  res: Response;
  /** Aborts with the call's timeout while a plain answer is read. */
  signal: AbortSignal;
}

export async function postUpstream(post: UpstreamPost): Promise<UpstreamReply> {
  const streamGuard = post.stream ? new AbortController() : undefined;
  const timer = streamGuard ? setTimeout(() => streamGuard.abort(), post.timeoutMs) : undefined;
  const signal = streamGuard?.signal ?? AbortSignal.timeout(post.timeoutMs);
  let res: Response;
  try {
    res = await fetch(post.url, { method: 'POST', headers: post.headers, body: post.body, signal });
    if (res.ok && post.stream && res.body) {
      res = new Response(await withFirstChunk(res.body), { status: res.status, statusText: res.statusText, headers: res.headers });
    }
  } catch (err) {
    throw signal.aborted ? timeoutError(post.label, post.provider, post.timeoutMs) : connectionError(post.label, post.provider, err);
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (!res.ok) throw await post.failure(res);
  return { res, signal };
}

/** The JSON of a plain answer, read within the call's timeout. */
export async function readJson(reply: UpstreamReply, post: Pick<UpstreamPost, 'label' | 'provider' | 'timeoutMs'>): Promise<unknown> {
  let text: string;
  try {
    text = await reply.res.text();
  } catch (err) {
    throw reply.signal.aborted ? timeoutError(post.label, post.provider, post.timeoutMs) : connectionError(post.label, post.provider, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A 2xx whose body is not what the provider documents. */
export function unexpectedAnswer(label: string, provider: string, detail: string): GatewayError {
  return new GatewayError(`litellm.APIError: ${label}Exception - unexpected answer from the provider: ${detail.slice(0, 300)}`, {
    status: 502, type: 'api_error', provider, retryable: true,
  });
}
