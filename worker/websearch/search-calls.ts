/**
 * The searches of one round, each run as a call of the caller's own key through the gateway's Search API
 * (`POST /v1/search/{tool}`, search/route.ts): so its `object_permission.search_tools`, limits and budgets
 * apply, and each search leaves its spend-log row (`call_type: asearch`) at the tool's price, attributed to the
 * request's end user and tags.
 */
import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import type { SearchCall } from './tools.ts';

/** Sends a request through the gateway's own routes (the caller's headers on it). */
export type Dispatch = (request: Request) => Promise<Response>;

/** What a round's searches came to: a text per call for the model, or the refusal that ends the request. */
export type SearchOutcome = { results: string[] } | { refusal: GatewayError };

/** How much of one search's text the model is given, so a provider's long pages cannot blow up the follow-up. */
export const MAX_RESULT_CHARS = 20_000;
/** Searches one round runs at most (a model asking for more is told the rest were not run). */
export const MAX_SEARCHES_PER_ROUND = 5;
/** Searches of a round in flight at once, at most (fewer for a key or team with a lower `max_parallel_requests`). */
export const MAX_PARALLEL_SEARCHES = 3;

/** What a skipped search tells the model. */
export const SKIPPED = `Search not run: at most ${MAX_SEARCHES_PER_ROUND} searches are run per turn.`;

/** Results as LiteLLM hands them to the model: `Title / URL / Snippet` per result, a blank line between. */
export function formatResults(body: unknown): string {
  const results = isObject(body) && Array.isArray(body.results) ? body.results.filter(isObject) : [];
  if (!results.length) return 'No results found.';
  const text = results.map((r) => `Title: ${String(r.title ?? '')}\nURL: ${String(r.url ?? '')}\nSnippet: ${String(r.snippet ?? '')}`).join('\n\n');
  return text.length > MAX_RESULT_CHARS ? text.slice(0, MAX_RESULT_CHARS) : text;
}

/** The headers of a caller's refusal the client gets with it: when to retry, and which limit it hit. */
function refusalHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name === 'retry-after' || name === 'rate_limit_type' || name === 'reset_at' || name.startsWith('x-ratelimit-')) out[name] = value;
  });
  return out;
}

/**
 * A refusal of the caller's own (the key may not use the tool, its budget or a limit is spent) ends the request
 * with that error and its retry headers, as the client would get it from /v1/search. The Search API tells them
 * apart from the provider's own failures (a 429 or 401 of the search provider included): a search that reached
 * the provider is answered with its call headers (`x-litellm-call-id`), a refusal before it is not. A provider's
 * failure is told to the model instead ("Search failed: ..."), which answers without it, as in LiteLLM.
 */
function callerRefusal(res: Response, error: Record<string, unknown>): GatewayError | undefined {
  if (res.headers.has('x-litellm-call-id')) return undefined;
  const type = typeof error.type === 'string' ? error.type : '';
  return new GatewayError(typeof error.message === 'string' ? error.message : `search refused (HTTP ${res.status})`, {
    status: res.status, type: type || 'invalid_request_error', param: typeof error.param === 'string' ? error.param : null,
    headers: refusalHeaders(res.headers),
  });
}

/** A refusal only because too many of the key's calls were in flight: worth running again once the others are done. */
const parallelRefusal = (err: GatewayError) => err.status === 429 && err.headers.rate_limit_type === 'max_parallel_requests';

async function runOne(dispatch: Dispatch, url: string, headers: Headers, call: SearchCall, attribution: Record<string, unknown>): Promise<string | GatewayError> {
  if (!call.query) return 'Search failed: the tool call gave no query.';
  const res = await dispatch(new Request(url, { method: 'POST', headers, body: JSON.stringify({ ...attribution, query: call.query }) }));
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok) return formatResults(body);
  const error = isObject(body) && isObject(body.error) ? body.error : {};
  return callerRefusal(res, error) ?? `Search failed: ${typeof error.message === 'string' ? error.message : `HTTP ${res.status}`}`;
}

/**
 * Runs a round's searches on the configured tool: the first MAX_SEARCHES_PER_ROUND of them, `parallel` at a time
 * (the key's `max_parallel_requests` caps it, intercept.ts). Once one is refused only because too many of the
 * key's calls are in flight (the client's other calls), the rest start one at a time, and each refused so runs
 * again alone once the others are done. The first refusal of the caller's that remains ends the request.
 * `attribution` is the request's `user`, `tags` and `metadata`, sent with each search so its spend row and limits
 * are the end user's and tags' too.
 */
export async function runSearches(
  dispatch: Dispatch, origin: string, tool: string, headers: Headers, calls: SearchCall[], attribution: Record<string, unknown>,
  parallel = MAX_PARALLEL_SEARCHES,
): Promise<SearchOutcome> {
  const url = `${origin}/v1/search/${encodeURIComponent(tool)}`;
  const run = calls.slice(0, MAX_SEARCHES_PER_ROUND);
  const done: (string | GatewayError)[] = new Array(run.length);
  let next = 0;
  let crowded = false;
  const worker = async (lane: number) => {
    // After a parallel refusal, only the first lane starts more: the rest of the round runs one at a time.
    for (let i = next++; i < run.length; i = next++) {
      const d = await runOne(dispatch, url, headers, run[i]!, attribution);
      done[i] = d;
      if (d instanceof GatewayError && parallelRefusal(d)) crowded = true;
      if (crowded && lane > 0) return;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, run.length)) }, (_, lane) => worker(lane)));
  for (let i = 0; i < done.length; i++) {
    const d = done[i]!;
    if (d instanceof GatewayError && parallelRefusal(d)) done[i] = await runOne(dispatch, url, headers, run[i]!, attribution);
  }
  const refusal = done.find((d): d is GatewayError => d instanceof GatewayError);
  if (refusal) return { refusal };
  return { results: [...(done as string[]), ...calls.slice(run.length).map(() => SKIPPED)] };
}
