import type { ProviderId } from '../../config/providers.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import type { CallOutcome, Endpoint, ProviderAdapter, ProviderAnswer, ProviderCall } from '../types.ts';
import { displayBase } from '../upstream-url.ts';
import { connectionError, timeoutError, upstreamError } from './errors.ts';
import { providerFields } from './params.ts';
import { relayOpenAIStream } from './sse-stream.ts';
import { readOpenAIUsage } from './usage.ts';

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: 'chat/completions',
  completion: 'completions',
  embedding: 'embeddings',
};

export interface UpstreamTarget {
  url: URL;
  headers: Record<string, string>;
  /** The credential in use, so error messages can be scrubbed of it. */
  secret?: string;
}

/** What makes one OpenAI-compatible provider differ from another: where to send and how to authenticate. */
export interface OpenAICompatibleFlavor {
  id: ProviderId;
  /** `OpenAI` → "OpenAIException" in messages, as LiteLLM words them. */
  label: string;
  endpoints: readonly Endpoint[];
  /** Fields the provider takes per endpoint; undefined takes anything. */
  supported?: Record<Endpoint, ReadonlySet<string>>;
  target(deployment: DeploymentRef, endpoint: Endpoint, env: Record<string, unknown>): UpstreamTarget;
}

/** A string from the Worker env, or undefined. */
export function envString(env: Record<string, unknown>, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The shared base every OpenAI-wire-format provider is configuration over. */
export function openAICompatible(flavor: OpenAICompatibleFlavor): ProviderAdapter {
  return {
    id: flavor.id,
    endpoints: new Set(flavor.endpoints),
    async call(call: ProviderCall): Promise<ProviderAnswer> {
      const target = flavor.target(call.deployment, call.endpoint, call.env);
      const fields = providerFields(call.body, flavor.supported?.[call.endpoint], call.dropParams, flavor.id);
      fields.model = call.deployment.model;
      if (call.stream) {
        // Usage is always counted: ask for it, and hide it from a client that did not.
        const asked = (fields.stream_options ?? {}) as Record<string, unknown>;
        fields.stream_options = { ...asked, include_usage: true };
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), call.timeoutMs);
      let res: Response;
      try {
        res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: call.stream ? 'text/event-stream' : 'application/json', ...target.headers },
          body: JSON.stringify(fields),
          signal: controller.signal,
        });
      } catch (err) {
        clearTimeout(timer);
        throw controller.signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (!res.ok) {
        clearTimeout(timer);
        throw await upstreamError(res, flavor.label, flavor.id, [target.secret]);
      }
      const apiBase = displayBase(target.url);
      if (call.stream && res.body) {
        // The timeout guards the wait for the first byte; a stream then runs as long as it flows.
        clearTimeout(timer);
        const relay = relayOpenAIStream(res.body, {
          clientWantsUsage: call.clientWantsUsage,
          usageInjected: true,
          promptTokenEstimate: call.promptTokenEstimate,
          keepText: call.keepText,
          label: flavor.label,
          provider: flavor.id,
        });
        return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase };
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        throw controller.signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      } finally {
        clearTimeout(timer);
      }
      return { status: 200, contentType: 'application/json', body: text, outcome: Promise.resolve(jsonOutcome(text, call)), apiBase };
    },
  };
}

function jsonOutcome(text: string, call: ProviderCall): CallOutcome {
  let parsed: { usage?: unknown; choices?: { message?: { content?: unknown }; text?: unknown }[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a 200 that is not JSON: counted as unknown usage
  }
  const usage = readOpenAIUsage(parsed.usage as never) ?? {
    promptTokens: call.promptTokenEstimate, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false,
  };
  const first = parsed.choices?.[0];
  const answer = first?.message?.content ?? first?.text;
  return {
    usage,
    finishedAt: Date.now(),
    ...(call.keepText && typeof answer === 'string' ? { responseText: answer } : {}),
  };
}
