import { deploymentPrice } from '../../cost/deployment-cost.ts';
import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { keptAnswer } from '../answer-tool-calls.ts';
import { modifiedForAnthropic } from '../modify-params/anthropic.ts';
import { connectionError, timeoutError } from '../openai-compatible/errors.ts';
import type { CallOutcome, ProviderAdapter, ProviderAnswer, ProviderCall } from '../types.ts';
import { type AnthropicTarget, anthropicTarget, betaHeader } from './api.ts';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest } from './convert-request.ts';
import { toOpenAIChatCompletion } from './convert-response.ts';
import { LABEL, streamEventError, upstreamBroke, upstreamError } from './errors.ts';
import { anthropicErrorSchema, anthropicMessageSchema } from './schemas.ts';
import { openAnthropicStream } from './sse-stream.ts';
import { usageReport } from './usage.ts';
import { withForwarded } from '../forwarded.ts';

const PROVIDER = 'anthropic';

// A deployment's target depends only on config and env: built once per isolate, keyed by the deployment object.
let targets: { env: object; byDeployment: WeakMap<DeploymentRef, AnthropicTarget> } | undefined;
function targetOf(call: ProviderCall): AnthropicTarget {
  if (targets?.env !== call.env) targets = { env: call.env, byDeployment: new WeakMap() };
  let target = targets.byDeployment.get(call.deployment);
  if (!target) targets.byDeployment.set(call.deployment, (target = anthropicTarget(call.deployment, call.env)));
  return target;
}

/**
 * `anthropic/<model>`: OpenAI chat in, Anthropic's Messages API upstream,
 * OpenAI's chat format back (JSON, or chunks translated as they stream).
 */
export const anthropic: ProviderAdapter = {
  id: PROVIDER,
  endpoints: new Set(['chat']),
  async call(call: ProviderCall): Promise<ProviderAnswer> {
    const { target, request, headers } = messagesRequest(call);
    const secrets = [target.secret];

    // A plain call is bounded as a whole; a stream until its first event, so its timer is cleared then.
    const streamGuard = call.stream ? new AbortController() : undefined;
    const timer = streamGuard ? setTimeout(() => streamGuard.abort(), call.timeoutMs) : undefined;
    const signal = streamGuard?.signal ?? AbortSignal.timeout(call.timeoutMs);
    const failed = (err: unknown) => (err instanceof GatewayError
      ? err
      : signal.aborted ? timeoutError(LABEL, PROVIDER, call.timeoutMs) : connectionError(LABEL, PROVIDER, err));
    const created = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(target.url, { method: 'POST', headers, body: JSON.stringify(request.payload), signal });
      if (!res.ok) throw await upstreamError(res, secrets);
      if (call.stream) {
        if (!res.body) throw upstreamBroke('the upstream answered without a body');
        const relay = await openAnthropicStream(res.body, {
          clientWantsUsage: call.clientWantsUsage,
          jsonMode: request.jsonMode,
          created,
          secrets,
          promptTokenEstimate: call.promptTokenEstimate,
          keepText: call.keepText,
        });
        return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase: target.apiBase };
      }
      const text = await res.text();
      const converted = toOpenAIChatCompletion(parseMessage(text, secrets), { jsonMode: request.jsonMode, unwrapValues: request.unwrapValues, created });
      const outcome: CallOutcome = {
        usage: usageReport(converted.tokens, true),
        finishedAt: Date.now(),
        ...(call.keepText ? keptAnswer(converted.text, converted.toolCalls, converted.completion.choices[0]?.message) : {}),
      };
      return { status: 200, contentType: 'application/json', body: JSON.stringify(converted.completion), outcome: Promise.resolve(outcome), apiBase: target.apiBase };
    } catch (err) {
      throw failed(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
  },
  outgoing(call) {
    const { target, request, headers } = messagesRequest(call);
    return { url: target.url, headers, body: request.payload, secrets: [target.secret] };
  },
};

/** The Messages API request a chat call sends: its target, the translated body, and its headers. */
function messagesRequest(call: ProviderCall) {
  const target = targetOf(call);
  // litellm_settings.modify_params: what Anthropic would refuse is rewritten first, as LiteLLM does.
  const request = toAnthropicRequest(call.deployment.modifyParams ? modifiedForAnthropic(call.body) : call.body, {
    model: call.deployment.model,
    dropParams: call.dropParams,
    defaultMaxTokens: deploymentPrice(call.deployment)?.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    stream: call.stream,
  });
  const headers = withForwarded(call.forwarded, {
    'content-type': 'application/json',
    accept: call.stream ? 'text/event-stream' : 'application/json',
    ...target.headers,
  });
  const beta = betaHeader(target.headers['anthropic-beta'], call.headers?.get('anthropic-beta'));
  if (beta) headers['anthropic-beta'] = beta;
  return { target, request, headers };
}

function parseMessage(text: string, secrets: readonly (string | undefined)[]) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw upstreamBroke('the upstream answered 200 with a body that is not JSON');
  }
  // An error envelope behind a 200 (a proxy in between) is still the error it names.
  const error = anthropicErrorSchema.safeParse(json);
  if (error.success) throw streamEventError(error.data.error.type, error.data.error.message, secrets);
  const parsed = anthropicMessageSchema.safeParse(json);
  if (!parsed.success) throw upstreamBroke('the upstream answered 200 with a body that is not an Anthropic message');
  return parsed.data;
}
