import type { Context } from 'hono';
import type { z } from 'zod';
import { type Caller, identify, unknownKey } from '../auth/authenticate.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { routeCall } from '../router/route-call.ts';
import { type Admission, type AdmissionInput, admitCall } from '../limits/admission.ts';
import { promptText } from '../openai/request-schemas.ts';
import { readJsonBody } from '../openai/read-body.ts';
import { estimateTokens } from '../providers/openai-compatible/usage.ts';
import { mock } from '../providers/mock/index.ts';
import { PROVIDERS } from '../providers/registry.ts';
import type { Endpoint, ProviderAnswer } from '../providers/types.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { emitCall } from '../telemetry/emit.ts';
import '../telemetry/sinks.ts';
import pkg from '../../package.json';
import { type CallContext, endUserOf } from './call-context.ts';
import { type CallResult, spendRecord } from './spend-record.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** LiteLLM's `request_timeout` default (seconds). */
const DEFAULT_TIMEOUT_S = 600;

/**
 * One model call, the hot path of ARCHITECTURE.md: validate the body,
 * authenticate, check model access, pick a deployment, call the provider,
 * stream or return its answer with LiteLLM's headers, and settle the spend
 * record after the response (`waitUntil`), for failures too.
 */
export interface ModelCallOptions {
  /** Azure-style paths name the model group in the path. */
  modelFromPath?: string;
  /**
   * An OpenAI-format body another route already read and translated (the
   * Anthropic-format /v1/messages); it is validated like a client's.
   */
  body?: Record<string, unknown>;
}

export async function handleModelCall(c: Ctx, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions = {}): Promise<Response> {
  const startedAt = Date.now();
  const state = await gatewayState(c.env);
  const sizeMb = state.config.general_settings.max_request_size_mb;
  const { modelFromPath } = options;
  const body = options.body
    ? validated(schema, modelFromPath ? { ...options.body, model: modelFromPath } : options.body)
    : await readJsonBody(c.req.raw, schema, {
      ...(sizeMb ? { maxBytes: sizeMb * 1024 * 1024 } : {}),
      ...(modelFromPath ? { overrides: { model: modelFromPath } } : {}),
    });
  const who = await identify(c.req.raw.headers, state.masterKeyHash);
  const group = body.model as string;
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
  const resolved = resolveGroup(state.config, catalog, group);
  const picked = resolved.deployments[0];
  const callId = crypto.randomUUID();
  const promptTokens = estimateTokens(promptText(body).length);
  const estimate = reservationEstimate(picked, promptTokens, body, endpoint);
  const endUser = endUserOf({ body, headers: c.req.raw.headers });
  // One parallel round of limiter calls (key, team, org or user, end user); the master key has no limits of its own.
  const general = state.config.general_settings;
  const globalBudget = (general.max_budget ?? state.config.litellm_settings.max_budget) !== undefined;
  const admission = !who.master || endUser || globalBudget
    ? await admit(c.env, who, { requestId: callId, model: group, endUser, globalBudget, ...estimate, waitUntil: (p) => c.executionCtx.waitUntil(p) })
    : undefined;
  const caller: Caller = who.master || !admission?.policy ? { kind: 'master', token: who.token } : { kind: 'key', token: admission.policy.token, policy: admission.policy };
  try {
    authorizeModel(caller, group, catalog);
    if (!picked) {
      throw new GatewayError(`Invalid model name passed in model=${group}. Call \`/v1/models\` to view available models for your key.`, {
        status: 400, type: 'bad_request_error', param: 'model',
      });
    }
  } catch (err) {
    if (admission) c.executionCtx.waitUntil(admission.release());
    throw err;
  }
  let deployment = picked;
  const ctx: CallContext = {
    callId,
    startedAt,
    endpoint,
    caller,
    deployment,
    body,
    stream: body.stream === true && endpoint !== 'embedding',
    headers: c.req.raw.headers,
    keepText: state.config.general_settings.store_prompts_in_spend_logs === true,
  };
  let overheadMs: number | undefined;
  const settle = (result: CallResult) => {
    emitCall(c.env, c.executionCtx, {
      record: spendRecord(ctx, result), endpoint, caller, deployment: ctx.deployment, body, stream: ctx.stream, outcome: result.outcome,
      error: result.error ?? result.outcome?.error, headers: c.req.raw.headers, startedAt, finishedAt: result.finishedAt, overheadMs,
    });
    const tokens = (result.outcome?.usage.promptTokens ?? 0) + (result.outcome?.usage.completionTokens ?? 0);
    if (admission) c.executionCtx.waitUntil(admission.settle(result.cost, tokens).catch((err: unknown) => console.error('limiter settle failed:', err instanceof Error ? err.message : String(err))));
  };

  const upstreamStartedAt = Date.now();
  const callProvider = (d: DeploymentRef, timeout: number): Promise<ProviderAnswer> => {
    const adapter = typeof body.mock_response === 'string' ? mock : PROVIDERS.get(d.provider);
    if (!adapter) {
      return Promise.reject(new GatewayError(`Provider "${d.provider}" is not implemented yet (model group ${d.group})`, {
        status: 501, type: 'not_implemented_error', provider: d.provider,
      }));
    }
    if (!adapter.endpoints.has(endpoint)) {
      return Promise.reject(new GatewayError(`Model group ${d.group} (${d.provider}) does not serve /${endpoint === 'chat' ? 'chat/completions' : `${endpoint}s`}`, {
        status: 400, type: 'bad_request_error', param: 'model',
      }));
    }
    deployment = d;
    ctx.deployment = d;
    return adapter.call({
      endpoint,
      deployment: d,
      body,
      stream: ctx.stream,
      clientWantsUsage: (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      dropParams: state.config.litellm_settings.drop_params === true,
      env: c.env,
      timeoutMs: timeout,
      promptTokenEstimate: promptTokens,
      keepText: ctx.keepText,
    });
  };
  let answer: ProviderAnswer;
  let routing: { retries: number; fallbacks: number };
  try {
    const requestTimeoutS = state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
    const routed = await routeCall({
      env: c.env, ctx: c.executionCtx, state, catalog, requested: group, stream: ctx.stream, promptTokens,
      clientFallbacks: Array.isArray(body.fallbacks) ? body.fallbacks.filter((f): f is string => typeof f === 'string') : undefined,
      deadline: startedAt + requestTimeoutS * 1000,
      call: callProvider,
    });
    answer = routed.answer;
    deployment = routed.deployment;
    ctx.deployment = routed.deployment;
    routing = { retries: routed.attemptedRetries, fallbacks: routed.attemptedFallbacks };
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
    if (!(err instanceof GatewayError)) console.error('model call failed', err instanceof Error ? err.stack ?? err.message : String(err));
    settle({ error, cost: 0, apiBase: deployment.params.api_base ?? '', finishedAt: Date.now() });
    return errorResponse(error, callHeaders(ctx, ''));
  }
  const upstreamMs = Date.now() - upstreamStartedAt;
  const headers: Record<string, string> = {
    ...admission?.headers,
    ...callHeaders(ctx, answer.apiBase),
    'x-litellm-attempted-retries': String(routing.retries),
    'x-litellm-attempted-fallbacks': String(routing.fallbacks),
  };
  headers['content-type'] = answer.contentType;

  if (!(answer.body instanceof ReadableStream)) {
    const outcome = await answer.outcome;
    const cost = costOfCall(deployment, outcome.usage);
    headers['x-litellm-response-cost'] = String(cost);
    if (caller.kind === 'key') headers['x-litellm-key-spend'] = String(caller.policy.spend + cost);
    overheadMs = timingHeaders(headers, startedAt, upstreamMs);
    settle({ outcome, cost, apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
    return new Response(answer.body, { status: answer.status, headers });
  }
  // A stream's cost is known only at its end: it goes to the spend log, not the headers.
  c.executionCtx.waitUntil(answer.outcome.then((outcome) => {
    settle({ outcome, cost: costOfCall(deployment, outcome.usage), apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
  }));
  headers['cache-control'] = 'no-cache';
  if (caller.kind === 'key') headers['x-litellm-key-spend'] = String(caller.policy.spend);
  overheadMs = timingHeaders(headers, startedAt, upstreamMs);
  return new Response(answer.body, { status: answer.status, headers });
}

function validated(schema: z.ZodType<Record<string, unknown>>, body: Record<string, unknown>): Record<string, unknown> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  throw new GatewayError(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; '), {
    status: 400, type: 'bad_request_error', param: first?.path.length ? first.path.map(String).join('.') : null,
  });
}

function callHeaders(ctx: CallContext, apiBase: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-litellm-call-id': ctx.callId,
    'x-litellm-model-id': ctx.deployment.id,
    'x-litellm-model-group': ctx.deployment.group,
    'x-litellm-version': pkg.version,
  };
  if (apiBase) headers['x-litellm-model-api-base'] = apiBase;
  return headers;
}

/** Total time to the response headers, and the part of it that was Tollgate's own work (returned). */
function timingHeaders(headers: Record<string, string>, startedAt: number, upstreamMs: number): number {
  const total = Date.now() - startedAt;
  const overhead = Math.max(0, total - upstreamMs);
  headers['x-litellm-response-duration-ms'] = String(total);
  headers['x-litellm-overhead-duration-ms'] = String(overhead);
  return overhead;
}

/** Per-deployment `timeout` (or `stream_timeout` for the first byte of a stream), else the router's, else LiteLLM's default. */
function timeoutMs(state: GatewayState, params: { timeout?: number; stream_timeout?: number }, stream: boolean): number {
  const router = state.config.router_settings;
  const seconds = (stream ? params.stream_timeout ?? router.stream_timeout : undefined)
    ?? params.timeout ?? router.timeout ?? state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
  return Math.max(1, seconds * 1000);
}

/** Output tokens reserved when a request names no `max_tokens`, and the most ever reserved: a huge `max_tokens` cannot lock a budget. */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 512;
export const MAX_RESERVED_OUTPUT_TOKENS = 4096;

/** What admission reserves: the prompt (estimated from its text) plus the answer it may get, at the deployment's prices. */
function reservationEstimate(deployment: DeploymentRef | undefined, promptTokens: number, body: Record<string, unknown>, endpoint: Endpoint): { estCost: number; estTokens: number } {
  const asked = Number(body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS);
  const output = endpoint === 'embedding' ? 0 : Math.min(Number.isFinite(asked) && asked > 0 ? asked : DEFAULT_RESERVED_OUTPUT_TOKENS, MAX_RESERVED_OUTPUT_TOKENS);
  const estCost = deployment
    ? costOfCall(deployment, { promptTokens, completionTokens: output, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false })
    : 0;
  return { estCost, estTokens: promptTokens + output };
}

async function admit(env: GatewayEnv, who: { token: string; master: boolean; shown: string }, input: Omit<AdmissionInput, 'token' | 'master'>): Promise<Admission> {
  try {
    return await admitCall(env, { token: who.token, master: who.master, ...input });
  } catch (err) {
    // The limiter does not know the key itself; the 401 shows it as sk-...ABCD with its hash, as LiteLLM does.
    if (err instanceof GatewayError && err.type === 'token_not_found_in_db') throw unknownKey(who.shown, who.token);
    throw err;
  }
}
