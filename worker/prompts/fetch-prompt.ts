/**
 * One GET of a remote prompt store (LiteLLM's generic prompt API, Langfuse's prompts API), read as JSON. A
 * store that fails, redirects, answers too much or does not answer in time fails the call with a GatewayError
 * that names the store and the status, never its credentials or its answer's text: a prompt is never sent
 * without its prompt, and a store's error page may echo the request's key.
 */
import { GatewayError } from '../errors.ts';
import { readBoundedBytes } from '../openai/read-body.ts';

/** A prompt is a few messages; an answer past this is not one, and is not read into memory. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** The longest a call waits for its prompt, whatever `timeout` or LANGFUSE_TIMEOUT say: a prompt store is not a model. */
export const MAX_TIMEOUT_S = 60;

export interface PromptFetch {
  url: URL;
  headers: Record<string, string>;
  /** Seconds to wait, more than 0; past MAX_TIMEOUT_S, MAX_TIMEOUT_S. */
  timeoutS: number;
  /** The call's prompt_id, named in every error. */
  promptId: string;
  /** What the store is called in errors ("the prompt API", "Langfuse"). */
  store: string;
}

/** The store's answer, parsed, with its size in bytes (what keeping it costs: prompt-cache.ts). */
export async function fetchPromptJson(req: PromptFetch, fetcher: typeof fetch): Promise<{ json: unknown; bytes: number }> {
  const failed = (status: number, type: string, why: string) => new GatewayError(`prompt "${req.promptId}": ${req.store} ${why}`, { status, type, param: 'prompt_id' });
  const timedOut = (err: unknown) => (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
  const timeoutS = Math.min(req.timeoutS, MAX_TIMEOUT_S);
  const late = () => failed(504, 'timeout_error', `did not answer within ${timeoutS}s`);
  let res: Response;
  try {
    // A redirect is not followed: its target would get the store's credentials.
    res = await fetcher(req.url, { headers: req.headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (err) {
    throw timedOut(err) ? late() : failed(502, 'api_connection_error', 'could not be reached');
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) throw failed(502, 'api_error', `redirected (${res.status}); redirects are not followed`);
    throw res.status === 404 ? failed(404, 'not_found_error', 'does not know this prompt (404)') : failed(502, 'api_error', `answered ${res.status}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedBytes(res, MAX_ANSWER_BYTES);
  } catch (err) {
    if (timedOut(err)) throw late();
    if (err instanceof GatewayError && err.status === 413) throw failed(502, 'api_error', `answered more than ${MAX_ANSWER_BYTES / 1024 / 1024} MB`);
    throw failed(502, 'api_connection_error', 'broke off its answer');
  }
  try {
    return { json: JSON.parse(new TextDecoder().decode(bytes)), bytes: bytes.byteLength };
  } catch {
    throw failed(502, 'api_error', 'answered with something that is not JSON');
  }
}

/** A store's answer that is JSON but not what it documents. */
export function malformedAnswer(req: Pick<PromptFetch, 'promptId' | 'store'>, why: string): GatewayError {
  return new GatewayError(`prompt "${req.promptId}": ${req.store} ${why}`, { status: 502, type: 'api_error', param: 'prompt_id' });
}
