/**
 * LiteLLM's `websearch_interception` on /v1/chat/completions, /v1/messages and /v1/responses: a request offering
 * the web search tool runs as a bounded tool loop inside the gateway. The model is called (not streamed), the
 * searches its answer asks for run on the configured search tool, the model is called again with the results, and
 * so on up to `max_agentic_loops` follow-ups (loop-bounds.ts); the client gets the final answer as one call
 * (streamed if it asked).
 *
 * Every model call and every search goes back through the gateway's own routes as a call of the caller's key,
 * so each is admitted (limits, budgets checked before it), routed, and settled in its own spend-log row, with
 * nothing of the router or the Search API duplicated here.
 */
import type { Context } from 'hono';
import { identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { isObject } from '../json.ts';
import { describeEntity, describeKey } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { bodyLimit, DEFAULT_MAX_BODY_BYTES, readBoundedBytes } from '../openai/read-body.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { anthropicErrorResponse } from '../routes/messages/errors.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { replayAsStream } from './replay-stream.ts';
import { type Dispatch, MAX_PARALLEL_SEARCHES, runSearches } from './search-calls.ts';
import { isInternal, markInternal } from './internal.ts';
import { ceilingFor, searchFingerprint } from './loop-bounds.ts';
import { responsesInput } from './responses.ts';
import { type InterceptionSettings, interceptionSettings } from './settings.ts';
import { type Dialect, followUpBody, followUpMessages, interceptedRequest, mayNameWebSearch, searchCalls, searchNames, withoutSearchCalls } from './tools.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;
type Handler = (c: Ctx) => Promise<Response>;
type Json = Record<string, unknown>;


interface Found {
  body: Json;
  request: Json;
  settings: InterceptionSettings;
  /** Names of the model's tool calls that are searches (tools.ts searchNames). */
  names: ReadonlySet<string>;
  /** The request's `user`, `tags` and `metadata`, which each search carries (search-calls.ts). */
  attribution: Json;
  /** Searches of a round in flight at once: at most the key's (and its team's) `max_parallel_requests`. */
  parallel: number;
  /** `max_request_size_mb` in bytes: a follow-up past it is not sent (the turn ends with the last answer). */
  maxBytes: number;
  /** The catalog, where a round's answering deployment's own `max_agentic_loops` is looked up (loop-bounds.ts). */
  catalog: ModelCatalog;
}

/** What the loop needs of the caller's key: the model group the call is for, and its parallel request limit. */
interface CallerFacts {
  group: string | undefined;
  /** The lower of the key's and its team's `max_parallel_requests` (undefined: neither has one). */
  maxParallel?: number;
}

const lowest = (...limits: (number | null | undefined)[]) => {
  const set = limits.filter((l): l is number => typeof l === 'number' && l > 0);
  return set.length ? Math.min(...set) : undefined;
};

/**
 * The model group the call is for: an Azure-style path's (`/openai/deployments/{model}/...`, `/engines/{model}/...`)
 * or the body's, through the key's `aliases` (else its team's `model_aliases`) as the route will resolve it; and the
 * key's and team's `max_parallel_requests`, so a round never launches more searches than the key may have in flight
 * (each refused one would leave a failure row the client never sees). A master key has no aliases or limits; a key
 * the limiter does not know is the route's to refuse.
 */
async function callerFacts(c: Ctx, token: string, master: boolean, body: Json): Promise<CallerFacts> {
  const named = c.req.param('model') ?? body.model;
  if (typeof named !== 'string') return { group: undefined };
  if (master) return { group: named };
  const { key } = await describeKey(c.env, token);
  if (!key?.exists) return { group: named };
  const team = key.teamId ? await describeEntity(c.env, 'team', key.teamId) : undefined;
  const group = key.modelAliases[named] ?? team?.modelAliases[named] ?? named;
  return { group, maxParallel: lowest(key.maxParallel, team?.maxParallel) };
}

/** The catalog, when one of the group's deployments may be served by a provider the callback is enabled for (`enabled_providers`). */
async function enabledFor(c: Ctx, state: GatewayState, settings: InterceptionSettings, group: string): Promise<ModelCatalog | undefined> {
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
  const { deployments } = resolveGroup(state.config, catalog, group);
  return deployments.some((d) => settings.providers.has(d.provider)) ? catalog : undefined;
}

/**
 * What each search carries of the request for attribution: `user` (/v1/messages' `metadata.user_id`), `tags`,
 * `metadata` (on /v1/responses the gateway's is `litellm_metadata`; its `metadata` is the provider's).
 */
function attributionOf(body: Json, dialect: Dialect): Json {
  const out: Json = {};
  const own = dialect === 'responses' ? body.litellm_metadata : body.metadata;
  const metadata = isObject(own) ? own : undefined;
  const user = typeof body.user === 'string' ? body.user : dialect === 'messages' && typeof metadata?.user_id === 'string' ? metadata.user_id : undefined;
  if (user) out.user = user;
  if (Array.isArray(body.tags)) out.tags = body.tags;
  if (metadata) out.metadata = metadata;
  return out;
}

/**
 * The call, when it is one to intercept (the callback applies and the request offers a web search tool). The
 * caller is identified first (`allowed_ips`, a key or a verified JWT): a request that fails it is the route's to
 * refuse, before any of its body is read. The body's copy is read within `max_request_size_mb` (past it, the
 * route answers its 413), and parsed only if it names a web search.
 */
async function requestToIntercept(c: Ctx, dialect: Dialect): Promise<Found | undefined> {
  const state = await gatewayState(c.env);
  const settings = interceptionSettings(state.config);
  if (!settings) return undefined;
  const who = await identify(headerSnapshot(c.req.raw.headers), state, c.req.path).catch(() => undefined);
  if (!who) return undefined;
  const maxBytes = bodyLimit(state.config).maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (Number(c.req.raw.headers.get('content-length') ?? 0) > maxBytes) return undefined;
  const bytes = await readBoundedBytes(c.req.raw.clone(), maxBytes).catch(() => undefined);
  if (!bytes) return undefined;
  const text = new TextDecoder().decode(bytes);
  if (!mayNameWebSearch(text)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(body)) return undefined;
  const request = interceptedRequest(body, dialect);
  if (!request) return undefined;
  const { group, maxParallel } = await callerFacts(c, who.token, who.master, body).catch((): CallerFacts => ({ group: undefined }));
  const catalog = group ? await enabledFor(c, state, settings, group).catch(() => undefined) : undefined;
  if (!catalog) return undefined;
  return {
    body, request, settings, names: searchNames(body, dialect), attribution: attributionOf(body, dialect),
    parallel: Math.min(MAX_PARALLEL_SEARCHES, maxParallel ?? MAX_PARALLEL_SEARCHES), maxBytes, catalog,
  };
}

/**
 * Wraps a model route (registered only when config.yaml turns the callback on, worker/app.ts). A request without
 * a web search tool, a model of a provider not enabled, or a malformed body goes to the route untouched.
 * `throughApp` sends a request through the gateway's routes (the app's own fetch).
 */
export function interceptWebSearch(dialect: Dialect, route: Handler, throughApp: (request: Request, c: Ctx) => Promise<Response>): Handler {
  return async function webSearchInterception(c: Ctx): Promise<Response> {
    if (isInternal(c.req.raw)) return route(c);
    const found = await requestToIntercept(c, dialect);
    if (!found) return route(c);
    const path = c.req.path;
    const dispatch: Dispatch = (request) => {
      markInternal(request, path);
      return throughApp(request, c);
    };
    try {
      return await toolLoop(c, dialect, found, dispatch);
    } catch (err) {
      return dialect !== 'messages' ? errorResponse(err) : anthropicErrorResponse(err);
    }
  };
}

async function toolLoop(c: Ctx, dialect: Dialect, found: Found, dispatch: Dispatch): Promise<Response> {
  const { body, request, settings, names, attribution, parallel, maxBytes, catalog } = found;
  const headers = new Headers(c.req.raw.headers);
  headers.delete('content-length');
  headers.set('content-type', 'application/json');
  const url = c.req.url;
  const origin = new URL(url).origin;
  const stream = body.stream === true;
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  let messages = dialect === 'responses' ? responsesInput(request) : Array.isArray(request.messages) ? [...(request.messages as Json[])] : [];
  let current = request;
  const asked = new Set<string>();
  // A stored Responses turn (`store` not false) must not end on a search call without its output: a later
  // `previous_response_id` naming it would be refused. So the last follow-up allowed, and the one answering a
  // repeated search with its earlier results, is sent with `tool_choice: "none"`, and the model answers.
  const settles = dialect === 'responses' && request.store !== false;
  const earlier = new Map<string, string>();
  let closing = false;
  for (let round = 0; ; round++) {
    const res = await dispatch(new Request(url, { method: 'POST', headers, body: JSON.stringify(current) }));
    // A refusal or failure of any call (a budget spent before a follow-up, the provider down) is the client's answer.
    if (!res.ok) return res;
    const answer = (await res.json()) as Json;
    const calls = searchCalls(answer, dialect, names);
    if (!calls) return finalAnswer(answer, dialect, res.headers, stream, includeUsage);
    // After the closing follow-up, at the ceiling, or (not stored) asked again for an earlier round's searches
    // (their results are already in the model's conversation), the turn ends with this answer, its search calls
    // taken out. A stored turn at the ceiling of a deployment that answered this round (lower than the one that
    // planned the rounds, a retry's or a fallback's) closes instead: one more follow-up, with `tool_choice: "none"`.
    const fingerprint = searchFingerprint(calls);
    const repeated = asked.has(fingerprint);
    const ceiling = ceilingFor(catalog, res.headers, settings.maxLoops);
    if (closing || (!settles && (round >= ceiling || repeated))) {
      return finalAnswer(withoutSearchCalls(answer, dialect, names), dialect, res.headers, stream, includeUsage);
    }
    asked.add(fingerprint);
    let results: string[];
    if (repeated) results = calls.map((call) => earlier.get(call.query) ?? '');
    else {
      const outcome = await runSearches(dispatch, origin, settings.tool, headers, calls, attribution, parallel);
      if ('refusal' in outcome) return dialect !== 'messages' ? errorResponse(outcome.refusal) : anthropicErrorResponse(outcome.refusal);
      results = outcome.results;
      calls.forEach((call, i) => earlier.set(call.query, results[i] ?? ''));
    }
    closing = settles && (repeated || round + 1 >= ceiling);
    const added = followUpMessages(answer, dialect, calls, results);
    messages = [...messages, ...added];
    current = followUpBody(request, messages, dialect, added);
    if (closing) current = { ...current, tool_choice: 'none' };
    // A follow-up the route would refuse as too large (the results made it so) is not sent: the turn ends with the
    // last answer, as at max_agentic_loops, rather than a 413 for a body the client never sent.
    if (new TextEncoder().encode(JSON.stringify(current)).byteLength > maxBytes) {
      return finalAnswer(withoutSearchCalls(answer, dialect, names), dialect, res.headers, stream, includeUsage);
    }
  }
}

/** The loop's answer to the client: the model's last turn, replayed as a stream to a client that asked to stream. */
function finalAnswer(last: Json, dialect: Dialect, headers: Headers, stream: boolean, includeUsage: boolean): Response {
  if (stream) return replayAsStream(last, dialect, headers, includeUsage);
  const out = new Headers(headers);
  out.delete('content-length');
  return new Response(JSON.stringify(last), { status: 200, headers: out });
}
