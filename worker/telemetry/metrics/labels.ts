import type { Caller } from '../../auth/authenticate.ts';
import { JWT_TOKEN_PREFIX } from '../../auth/jwt-identity.ts';
import type { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { exceptionClassOfStatus } from '../../providers/openai-compatible/errors.ts';
import type { CallEndpoint } from '../../providers/types.ts';
import { CLIENT_NAMED } from '../../models/deployments.ts';
import { MAX_LABEL_CHARS, NONE } from './registry.ts';

/**
 * Label values, each from a bounded set: hashes, admin-set aliases and ids,
 * config-defined model names and deployments, route templates, status codes
 * and a fixed list of exception classes. Nothing a client types freely (the
 * `user` field, a model name it made up, a URL path, an error message) ever
 * becomes a label value.
 */
export type LabelValues = Record<string, string>;

/** LiteLLM's user id for the master key (`litellm_proxy_admin_name`). */
export const MASTER_USER = 'default_user_id';
/** What any value outside a label's known set becomes. */
export const OTHER = 'other';

export function bounded(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return NONE;
  return value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}

/** The route template of an endpoint, as LiteLLM reports `route` for the unprefixed path. */
export const ROUTES: Record<CallEndpoint, string> = {
  chat: '/chat/completions',
  completion: '/completions',
  embedding: '/embeddings',
  responses: '/responses',
  moderation: '/moderations',
  image_generation: '/images/generations',
  speech: '/audio/speech',
  transcription: '/audio/transcriptions',
  image_edit: '/images/edits',
  rerank: '/rerank',
  ocr: '/ocr',
  // A provider's own API (passthrough/): one label for every path, as paths are the client's to choose.
  pass_through: '/pass_through',
  realtime: '/realtime',
  mcp: '/mcp',
  search: '/search',
  a2a: '/a2a',
  interaction: '/interactions',
};

/**
 * A caller's key as the `hashed_api_key` label: a key's SHA-256 hash; anything else is "other" (a JWT's
 * made-up key carries its team, user, organization and email in the clear, and /metrics is public).
 */
export function keyHashLabel(token: string): string {
  return /^[0-9a-f]{64}$/.test(token) ? token : OTHER;
}

/**
 * hashed_api_key, api_key_alias, team, team_alias, user of the caller. A JWT caller's user is "other", as its
 * key is: its user id is a token's claim (a token without the user claim is the user its email names).
 */
export function callerLabels(caller: Caller): LabelValues {
  const hash = keyHashLabel(caller.token);
  if (caller.kind === 'master') {
    return { hashed_api_key: hash, api_key_alias: NONE, team: NONE, team_alias: NONE, user: MASTER_USER };
  }
  const p = caller.policy;
  return {
    hashed_api_key: hash,
    api_key_alias: bounded(p.keyAlias),
    team: bounded(p.team?.id),
    team_alias: bounded(p.team?.alias),
    user: caller.token.startsWith(JWT_TOKEN_PREFIX) ? OTHER : bounded(p.userId),
  };
}

/**
 * The deployment's labels: all from config (or the admin API's stored models), never from a request. A
 * pass-through call to a model no deployment serves is priced under the name the client gave (CLIENT_NAMED):
 * it is labelled "other", so clients cannot mint series.
 */
export function deploymentLabels(deployment: DeploymentRef): LabelValues {
  const named = (deployment.info as Record<string, unknown>)[CLIENT_NAMED] === true ? OTHER : undefined;
  return {
    litellm_model_name: named ?? bounded(deployment.model),
    model: named ?? bounded(deployment.model),
    model_id: bounded(deployment.id),
    api_base: bounded(deployment.params.api_base),
    api_provider: bounded(deployment.provider),
    requested_model: named ?? bounded(deployment.group),
    model_group: named ?? bounded(deployment.group),
  };
}

/** A model group as a label: one of the groups the catalog knows, else "other". */
export function modelGroupLabel(name: unknown, known: { has(name: string): boolean }): string {
  return typeof name === 'string' && known.has(name) ? bounded(name) : OTHER;
}

export function statusLabel(status: number | undefined): string {
  return status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}

/** LiteLLM's exception class names; the only values `exception_class` takes (after an optional `Provider.` prefix). */
const CLASSES = new Set([
  'BadRequestError', 'AuthenticationError', 'PermissionDeniedError', 'NotFoundError', 'Timeout', 'UnprocessableEntityError',
  'RateLimitError', 'ServiceUnavailableError', 'InternalServerError', 'APIError', 'APIConnectionError', 'ContentPolicyViolationError',
  'ContextWindowExceededError', 'BudgetExceededError', 'ProxyException', 'NotImplementedError',
]);

/** By the error's type, for errors the gateway raised itself. */
const BY_TYPE: Record<string, string> = {
  budget_exceeded: 'BudgetExceededError',
  rate_limit_error: 'RateLimitError',
  api_connection_error: 'APIConnectionError',
  timeout_error: 'Timeout',
  content_policy_violation: 'ContentPolicyViolationError',
  context_window_exceeded: 'ContextWindowExceededError',
  not_implemented_error: 'NotImplementedError',
  bad_request_error: 'BadRequestError',
  service_unavailable: 'ServiceUnavailableError',
  internal_server_error: 'InternalServerError',
};

/** Python's str.capitalize(): "openai" → "Openai", "hosted_vllm" → "Hosted_vllm". */
function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

/**
 * LiteLLM's `exception_class`: `<Provider>.<ExceptionClass>` for a provider's
 * error ("Openai.RateLimitError"), the bare class otherwise. The class is
 * read from the `litellm.<Class>:` prefix the adapters put on messages, and
 * kept only if it is one of LiteLLM's.
 */
export function exceptionClass(error: GatewayError, provider: string | undefined): string {
  const prefixed = /^litellm\.([A-Za-z]+):/.exec(error.message)?.[1];
  const cls = prefixed && CLASSES.has(prefixed) ? prefixed : BY_TYPE[error.type] ?? exceptionClassOfStatus(error.status) ?? 'ProxyException';
  const from = error.provider ?? (error.upstreamStatus !== undefined ? provider : undefined);
  return from && /^[a-z0-9_]{1,40}$/.test(from) ? `${capitalize(from)}.${cls}` : cls;
}

/** Failures that say something about the deployment's health (not the caller's mistakes). */
export function isDeploymentFailure(error: GatewayError): boolean {
  return error.status === 408 || error.status === 429 || error.status >= 500;
}
