import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';

/** LiteLLM's error classes, as its retry_policy (`…Retries`) and allowed_fails_policy (`…AllowedFails`) keys spell them. */
export const LITELLM_ERROR_CLASSES = ['BadRequestError', 'AuthenticationError', 'TimeoutError', 'RateLimitError', 'ContentPolicyViolationError', 'InternalServerError'] as const;

/** The class of LITELLM_ERROR_CLASSES an error falls in. */
function errorClass(err: GatewayError): typeof LITELLM_ERROR_CLASSES[number] {
  if (err.type === 'content_policy_violation') return 'ContentPolicyViolationError';
  if (err.status === 401 || err.status === 403) return 'AuthenticationError';
  if (err.status === 408 || err.type === 'timeout_error') return 'TimeoutError';
  if (err.status === 429) return 'RateLimitError';
  if (err.status === 400 || err.status === 422) return 'BadRequestError';
  return 'InternalServerError';
}

function policyKey(err: GatewayError): string {
  return `${errorClass(err)}Retries`;
}

/**
 * How many failures a minute a deployment may have before it cools down, for
 * this error's class: `allowed_fails_policy` (e.g. `RateLimitErrorAllowedFails`),
 * else `allowed_fails` (3). As in LiteLLM, the failure past that number cools it.
 */
export function allowedFailsFor(config: TollgateConfig, err: GatewayError): number {
  const r = config.router_settings;
  return r.allowed_fails_policy?.[`${errorClass(err)}AllowedFails`] ?? r.allowed_fails ?? DEFAULT_ALLOWED_FAILS;
}

/** LiteLLM's default `allowed_fails`. */
export const DEFAULT_ALLOWED_FAILS = 3;

/**
 * LiteLLM's router retries a failed call twice unless told otherwise
 * (`num_retries` falls back to the OpenAI SDK's DEFAULT_MAX_RETRIES, 2).
 */
export const DEFAULT_NUM_RETRIES = 2;

/** How many retries an error earns: `retry_policy` for its class, else `num_retries` (DEFAULT_NUM_RETRIES unless configured). */
export function retriesFor(config: TollgateConfig, err: GatewayError, requested?: number): number {
  const policy = config.router_settings.retry_policy?.[policyKey(err)];
  if (policy !== undefined) return policy;
  if (!err.retryable) return 0;
  return requested ?? config.router_settings.num_retries ?? config.litellm_settings.num_retries ?? DEFAULT_NUM_RETRIES;
}

const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8_000;

/** The longest upstream `retry-after` a retry waits for, as in LiteLLM; a longer one (a quota spent for the day) gets the exponential backoff. */
const MAX_HONOURED_RETRY_AFTER_MS = 60_000;

/**
 * Exponential backoff with jitter (±25%), never shorter than the upstream's
 * `retry-after` up to a minute (or LiteLLM's `retry_after` setting) and never past the deadline.
 */
export function backoffMs(attempt: number, err: GatewayError, config: TollgateConfig, msLeft: number, random: () => number = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt) * (0.75 + random() * 0.5);
  const retryAfterHeader = Number(err.headers['retry-after-ms'] ?? NaN) || Number(err.headers['retry-after'] ?? NaN) * 1000;
  const honoured = Number.isFinite(retryAfterHeader) && retryAfterHeader <= MAX_HONOURED_RETRY_AFTER_MS ? retryAfterHeader : 0;
  const floor = Math.max(honoured, (config.router_settings.retry_after ?? 0) * 1000);
  return Math.max(0, Math.min(Math.max(exponential, floor), msLeft));
}

/** Errors that are the request's own fault: no other deployment or model would answer it differently. */
export function isRequestError(err: GatewayError): boolean {
  return (err.status === 400 || err.status === 413 || err.status === 422) && err.type !== 'content_policy_violation' && !isContextWindowError(err);
}

export function isContextWindowError(err: GatewayError): boolean {
  return err.type === 'context_window_exceeded' || /context.length|context_length_exceeded|maximum context length|too many tokens/i.test(err.message);
}
