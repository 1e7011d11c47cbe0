/**
 * Request fields a client may put a credential in (LiteLLM takes per-request `api_key`, `langfuse_secret_key`,
 * `aws_secret_access_key`, `vertex_credentials`, `azure_ad_token`, `extra_headers`, ...). The telemetry that
 * copies request parameters (the StandardLoggingPayload's `model_parameters`, Langfuse's `modelParameters`,
 * OpenInference's `llm.invocation_parameters`) leaves these out, one list for all of them, so no callback
 * destination ever receives a secret a client sent.
 */
const SECRET_PARAM = /key|secret|password|passwd|authorization|credential|header|api_base|base_url|token$/i;

/** Parameters whose names look like a credential's but are not: OpenAI's `prompt_cache_key` (LiteLLM logs it). */
const NOT_SECRET = new Set(['prompt_cache_key']);

/** Whether a request field's name says it may hold a credential (or where one is sent), so it is never logged. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name) && !NOT_SECRET.has(name);
}

/** Levels of a parameter's value looked into for credentials; anything deeper is left out whole. */
const MAX_DEPTH = 6;

/**
 * A parameter's value without the keys, at any level, that may hold a credential (`extra_body.api_key`,
 * `{"vertex_credentials": ...}` inside an object): what a copied non-scalar parameter is logged as. Looks
 * MAX_DEPTH levels in; a deeper object or array is replaced by a marker rather than logged unchecked.
 */
export function withoutSecretParams(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '(nested too deep to log)';
  if (Array.isArray(value)) return value.map((v) => withoutSecretParams(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (!isSecretParam(key)) out[key] = withoutSecretParams(v, depth + 1);
  return out;
}
