import { GatewayError } from '../errors.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';

/**
 * LiteLLM's route groups (`LiteLLMRoutes` in its `_types.py`), as far as
 * Tollgate serves their routes: what a key's `allowed_routes` may name
 * besides routes themselves. `key_type` sets them at generation:
 * llm_api → llm_api_routes, management → management_routes, read_only →
 * info_routes.
 */
const MODEL_CALL = /^(\/v1|\/v2|\/openai\/deployments\/[^/]+|\/engines\/[^/]+|\/queue)?\/(chat\/completions|completions|embeddings|moderations|images\/generations|images\/edits|rerank|ocr|audio\/speech|audio\/transcriptions|responses(\/[^/]+(\/input_items|\/cancel)?)?|files(\/[^/]+(\/content)?)?|batches(\/[^/]+(\/cancel)?)?|fine_tuning\/jobs(\/[^/]+(\/cancel|\/events|\/checkpoints)?)?|vector_stores(\/[^/]+(\/search|\/files(\/[^/]+)?|\/file_batches(\/[^/]+(\/cancel|\/files)?)?)?)?|videos(\/[^/]+(\/content|\/remix)?)?|containers(\/[^/]+(\/files(\/[^/]+(\/content)?)?)?)?)$/;
/** Under /openai/v1 the gateway serves only these; the rest of /openai/ is OpenAI's own API, passed through (llm_api_routes only). */
const OPENAI_V1 = /^\/openai\/v1\/(responses(\/[^/]+(\/input_items|\/cancel)?)?|files(\/[^/]+(\/content)?)?|batches(\/[^/]+(\/cancel)?)?|fine_tuning\/jobs(\/[^/]+(\/cancel|\/events|\/checkpoints)?)?|vector_stores(\/[^/]+(\/search|\/files(\/[^/]+)?|\/file_batches(\/[^/]+(\/cancel|\/files)?)?)?)?|videos(\/[^/]+(\/content|\/remix)?)?|containers(\/[^/]+(\/files(\/[^/]+(\/content)?)?)?)?)$/;
const MODELS = /^(\/v1)?\/models(\/.+)?$/;
const REALTIME = /^(\/v1|\/openai\/v1)?\/realtime$/;
/** Google's format for Gemini model groups (LiteLLM's google_routes). */
const GOOGLE = /^\/(v1beta|v1)\/models\/[^/]+:(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$|^(\/v1beta)?\/interactions(\/[^/]+(\/cancel)?)?$/;
/** Anthropic's Messages and Skills APIs (LiteLLM's anthropic_routes). */
const MESSAGES = /^\/v1\/(messages(\/count_tokens)?|skills(\/[^/]+(\/versions(\/[^/]+(\/content)?)?)?)?)$/;
/** LiteLLM's Search API (search/route.ts): searches and the list of search tools; in its openai_routes and llm_api_routes. */
const SEARCH = /^(\/v1)?\/search(\/[^/]+)?$/;
/** LiteLLM's RAG API (rag_endpoints): ingest a document, answer from a vector store; in its llm_api_routes. */
const RAG = /^(\/v1)?\/rag\/(ingest|query)$/;
/** LiteLLM's MCP gateway (mcp_routes, which its llm_api_routes include). */
const MCP = /^\/mcp(\/[^/]*)?$|^\/mcp-rest\/tools\/(list|call)$|^\/v1\/mcp\/server(\/[^/]+)?$/;
/** LiteLLM's A2A agent gateway (a2a/route.ts): agent calls, cards and the agents a key may reach. */
const A2A = /^(\/v1)?\/a2a\/[^/]+(\/message\/send|\/\.well-known\/agent(-card)?\.json)?$|^\/v1\/agents(\/[^/]+)?$/;
/** The providers' own APIs passed through (passthrough/providers.ts), LiteLLM's mapped pass-through routes. */
const PASS_THROUGH_PATHS = Object.keys(PASS_THROUGH_PREFIXES).map((p) => `${p}/`);
const passThrough = (path: string) => PASS_THROUGH_PATHS.some((p) => path.startsWith(p));

const INFO_ROUTES = new Set([
  '/key/info', '/v2/key/info', '/key/list', '/team/info', '/team/list', '/user/info', '/user/list', '/organization/info', '/organization/list',
  '/model/info', '/v1/model/info', '/v2/model/info', '/model_group/info', '/customer/info', '/end_user/info', '/budget/info', '/budget/list',
  '/spend/logs', '/global/spend/keys', '/global/spend/teams', '/global/spend/report', '/models', '/v1/models', '/health',
  '/key/aliases', '/v2/team/list', '/user/available_roles', '/spend/logs/ui', '/spend/logs/v2', '/spend/logs/session/ui', '/key/health',
  '/v2/user/info', '/team/available',
]);

/** The admin API's writes and reads: keys, users, teams, organizations, customers, budgets, models. */
const MANAGEMENT = /^\/(key|v2\/key|v2\/team|v2\/user|user|team|organization|customer|end_user|budget|tag|model|v1\/model|v2\/model)\//;

/**
 * Answers about a model call, held to the key's models as the call would be. LiteLLM's llm_api_routes
 * list only the first; the others answer a key that may make the call, so they go with it.
 */
const CALL_INFO = new Set(['/utils/token_counter', '/utils/supported_openai_params', '/utils/transform_request', '/cost/estimate']);

const GROUPS: Record<string, (path: string) => boolean> = {
  llm_api_routes: (path) => MODEL_CALL.test(path) || OPENAI_V1.test(path) || REALTIME.test(path) || GOOGLE.test(path) || MODELS.test(path) || MESSAGES.test(path) || passThrough(path) || MCP.test(path) || A2A.test(path) || SEARCH.test(path) || RAG.test(path) || CALL_INFO.has(path) || path === '/guardrails/apply_guardrail',
  openai_routes: (path) => MODEL_CALL.test(path) || OPENAI_V1.test(path) || REALTIME.test(path) || (MODELS.test(path) && !GOOGLE.test(path)) || SEARCH.test(path) || path === '/utils/token_counter',
  anthropic_routes: (path) => MESSAGES.test(path),
  google_routes: (path) => GOOGLE.test(path),
  mcp_routes: (path) => MCP.test(path),
  info_routes: (path) => INFO_ROUTES.has(path),
  management_routes: (path) => MANAGEMENT.test(path),
  spend_tracking_routes: (path) => path.startsWith('/spend/') || path.startsWith('/global/spend/'),
  global_spend_tracking_routes: (path) => path.startsWith('/global/spend/'),
};

/**
 * Whether `path` makes a model call or reaches a provider (the model-call, Realtime, Messages, Google, MCP, A2A and
 * pass-through routes), or shows what a call would send (`/utils/transform_request`): routes that must always be
 * called with a key (public-routes.ts).
 */
export function makesModelCall(path: string): boolean {
  return MODEL_CALL.test(path) || OPENAI_V1.test(path) || REALTIME.test(path) || GOOGLE.test(path) || MESSAGES.test(path) || passThrough(path) || MCP.test(path) || A2A.test(path) || SEARCH.test(path) || RAG.test(path)
    || path === '/utils/transform_request' || path === '/guardrails/apply_guardrail';
}

/** An `allowed_routes` entry that is a route or a `prefix*` pattern, covering `path`. */
const entryCovers = (entry: string, path: string) => entry === path || (entry.endsWith('*') && path.startsWith(entry.slice(0, -1)));

/** Whether a key whose `allowed_routes` is `allowed` may call `path`: [] allows all; entries are group names, routes, or `prefix*` patterns. */
export function routeAllowed(allowed: readonly string[], path: string): boolean {
  if (allowed.length === 0) return true;
  for (const entry of allowed) {
    const group = GROUPS[entry];
    if (group ? group(path) : entryCovers(entry, path)) return true;
  }
  return false;
}

/** Whether one of `allowed`'s routes or `prefix*` patterns (its route group names aside) covers `path`. */
export function routeListed(allowed: readonly string[], path: string): boolean {
  return allowed.some((entry) => !GROUPS[entry] && entryCovers(entry, path));
}

/** LiteLLM's refusal of a route a key's `allowed_routes` does not list (401, `Authentication Error, Virtual key is not allowed ...`). */
export function checkRoute(allowed: readonly string[], path: string): void {
  if (routeAllowed(allowed, path)) return;
  const listed = `[${allowed.map((r) => `'${r}'`).join(', ')}]`;
  throw new GatewayError(`Authentication Error, Virtual key is not allowed to call this route. Only allowed to call routes: ${listed}. Tried to call route: ${path}`, {
    status: 401, type: 'auth_error', param: 'None',
  });
}
