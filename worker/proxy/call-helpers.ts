import type { z } from 'zod';
import { unknownKey } from '../auth/authenticate.ts';
import type { KeyPolicy } from '../auth/key-policy.ts';
import type { CachePlan } from '../cache/response-cache.ts';
import type { CachedAnswer } from '../cache/store.ts';
import { streamedAnswer } from '../cache/streamed-answer.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { Admission, AdmissionInput } from '../limits/admission-answer.ts';
import { admitCall } from '../limits/admission.ts';
import type { CallOutcome, Endpoint, RequestHeaders } from '../providers/types.ts';
import pkg from '../../package.json';
import { parseRequest } from '../openai/request-schemas.ts';
import type { CallOverrides } from '../router/route-input.ts';
import type { CallContext } from './call-context.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { neverForwarded } from '../passthrough/forward.ts';

/** LiteLLM's `request_timeout` default (seconds). */
export const DEFAULT_TIMEOUT_S = 600;

/** How long a request to a provider may take (`litellm_settings.request_timeout`), in ms. */
export function requestTimeoutMs(config: { litellm_settings: { request_timeout?: number } }): number {
  return (config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000;
}

/**
 * Puts a complete answer in the cache and hands it to requests waiting on the
 * same key. A stream is stored as the answer it assembled, tool calls
 * included; one that may not be the answer the client got is not stored
 * (cache/streamed-answer.ts).
 */
export async function storeAnswer(plan: CachePlan, settleLeader: (a: CachedAnswer | undefined) => void, endpoint: Endpoint, body: string | ArrayBuffer | undefined, outcome: CallOutcome, model = ''): Promise<void> {
  const json = body === undefined ? streamedAnswer(endpoint, model, outcome) : typeof body === 'string' ? body : new TextDecoder().decode(body);
  const answer = json === undefined ? undefined : { endpoint, json, usage: outcome.usage, storedAt: Date.now() };
  settleLeader(answer);
  if (answer) await plan.store.set(plan.key, answer, plan.ttlSeconds);
}

export function validated(schema: z.ZodType<Record<string, unknown>>, body: Record<string, unknown>): Record<string, unknown> {
  const parsed = parseRequest(schema, body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  throw new GatewayError(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; '), {
    status: 400, type: 'bad_request_error', param: first?.path.length ? first.path.map(String).join('.') : null,
  });
}

export function callHeaders(ctx: CallContext, apiBase: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-litellm-call-id': ctx.callId,
    'x-litellm-model-id': ctx.deployment.id,
    'x-litellm-model-group': ctx.deployment.group,
    'x-litellm-version': pkg.version,
  };
  if (apiBase) headers['x-litellm-model-api-base'] = apiBase;
  if (ctx.modelRegion) headers['x-litellm-model-region'] = ctx.modelRegion;
  return headers;
}

/**
 * LiteLLM's x-litellm-key-* headers: the key's spend, and its max budget and
 * its own tpm/rpm limits where it has them (LiteLLM leaves out empty ones).
 */
export function keyHeaders(headers: Record<string, string>, policy: KeyPolicy, spend: number): void {
  headers['x-litellm-key-spend'] = String(spend);
  if (policy.maxBudget !== null) headers['x-litellm-key-max-budget'] = String(policy.maxBudget);
  if (policy.tpmLimit !== null) headers['x-litellm-key-tpm-limit'] = String(policy.tpmLimit);
  if (policy.rpmLimit !== null) headers['x-litellm-key-rpm-limit'] = String(policy.rpmLimit);
}

/** Total time to the response headers, and the part of it that was Tollgate's own work (returned). */
export function timingHeaders(headers: Record<string, string>, startedAt: number, upstreamMs: number): number {
  const total = Date.now() - startedAt;
  const overhead = Math.max(0, total - upstreamMs);
  headers['x-litellm-response-duration-ms'] = String(total);
  headers['x-litellm-overhead-duration-ms'] = String(overhead);
  return overhead;
}

export async function admit(env: GatewayEnv, who: { token: string; master: boolean; shown: string }, input: Omit<AdmissionInput, 'token' | 'master'>): Promise<Admission> {
  try {
    return await admitCall(env, { token: who.token, master: who.master, ...input });
  } catch (err) {
    // The limiter does not know the key itself; the 401 shows it as sk-...ABCD with its hash, as LiteLLM does.
    if (err instanceof GatewayError && err.type === 'token_not_found_in_db') throw unknownKey(who.shown, who.token);
    throw err;
  }
}

/**
 * The request's own timeout, stream timeout (seconds) and retries: LiteLLM's body fields `timeout`,
 * `stream_timeout`, `num_retries`, or its headers `x-litellm-timeout`, `x-litellm-stream-timeout`,
 * `x-litellm-num-retries` (a header wins). A value that is not a non-negative number is a 400.
 */
export function callOverrides(body: Record<string, unknown>, headers: RequestHeaders): CallOverrides | undefined {
  const read = (field: string, header: string, integer: boolean): number | undefined => {
    const raw: unknown = headers.get(header) ?? body[field];
    if (raw === undefined || raw === null || raw === '') return undefined;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value)) || (!integer && value === 0)) {
      const from = headers.get(header) !== null ? `header ${header}` : field;
      throw new GatewayError(`${from}: expected ${integer ? 'a whole number of retries, 0 or more' : 'a number of seconds above 0'}, got ${JSON.stringify(raw).slice(0, 40)}`, {
        status: 400, type: 'bad_request_error', param: field,
      });
    }
    return value;
  };
  const timeoutS = read('timeout', 'x-litellm-timeout', false);
  const streamTimeoutS = read('stream_timeout', 'x-litellm-stream-timeout', false);
  const numRetries = read('num_retries', 'x-litellm-num-retries', true);
  if (timeoutS === undefined && streamTimeoutS === undefined && numRetries === undefined) return undefined;
  return { timeoutS, streamTimeoutS, numRetries };
}

/**
 * The client's headers a call passes on to its provider (LiteLLM's): every `x-` header under
 * `forward_client_headers_to_llm_api` (and `anthropic-beta`), but the SDK's `x-stainless-*`, MCP servers'
 * credentials (`x-mcp-*`), A2A agents' (`x-a2a-*`), pass-through's `x-pass-*` (which only pass-through routes unwrap, as NAME: sent verbatim
 * they would carry a header the client may not set, such as `x-pass-x-goog-user-project`) and those no route ever
 * sends on (passthrough/forward.ts neverForwarded: the gateway's own, what proxies add, AWS signatures, which Google
 * project pays, method overrides); `openai-organization`
 * under `forward_openai_org_id`. Credentials never (the headers come through withoutCredentials).
 */
export function forwardedHeaders(settings: TollgateConfig['general_settings'], headers: RequestHeaders, byGroup = false): Record<string, string> | undefined {
  // byGroup: the deployment's group is one litellm_settings.model_group_settings names (router/header-groups.ts).
  const all = byGroup || settings.forward_client_headers_to_llm_api === true;
  const org = settings.forward_openai_org_id === true;
  if (!all && !org) return undefined;
  let out: Record<string, string> | undefined;
  headers.forEach((value, name) => {
    const passed = name === 'openai-organization'
      ? org
      : all && (name === 'anthropic-beta' || (name.startsWith('x-') && !name.startsWith('x-stainless') && !name.startsWith('x-mcp-') && !name.startsWith('x-a2a-') && !name.startsWith('x-pass-') && !neverForwarded(name)));
    if (passed) (out ??= {})[name] = value;
  });
  return out;
}

// Views over a request's headers, in their own module so code checked outside the Workers types (unit tests) can use them.
export { headerSnapshot, withoutCredentials } from './header-views.ts';
