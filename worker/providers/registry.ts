import { AZURE_DOCUMENT_INTELLIGENCE, type ProviderId } from '../config/providers.ts';
import { anthropic } from './anthropic/index.ts';
import { azure } from './azure/index.ts';
import { azureAi } from './azure_ai/index.ts';
import { bedrock } from './bedrock/index.ts';
import { gemini } from './gemini/index.ts';
import { cohere } from './cohere/index.ts';
import { hostedVllm, litellmProxy, openaiCompatible, vllm } from './hosted_vllm/index.ts';
import { mock } from './mock/index.ts';
import { openai, textCompletionOpenai } from './openai/index.ts';
import { hostedOpenAICompatible } from './openai-compatible/hosted.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { ENDPOINT_PATHS } from './openai-compatible/adapter.ts';
import type { Endpoint, ProviderAdapter } from './types.ts';
import { vertexAi } from './vertex_ai/index.ts';
import { bridgeResponses } from './responses-bridge/index.ts';
import { withSecretCredentials } from '../secrets/adapter.ts';

/** Every provider with an adapter. `IMPLEMENTED_PROVIDERS` in config/providers.ts must name the same set (a test checks). */
export const PROVIDERS: ReadonlyMap<ProviderId, ProviderAdapter> = new Map(
  [openai, textCompletionOpenai, azure, anthropic, hostedVllm, vllm, openaiCompatible, litellmProxy, mock, ...hostedOpenAICompatible, bedrock, vertexAi, gemini, cohere, azureAi]
    // With a secret manager configured, each reads the credentials it holds before sending (secrets/adapter.ts).
    .map((adapter) => [adapter.id, withSecretCredentials(adapter)]),
);

/**
 * The adapter that serves `endpoint` for a deployment: the mock one for a `mock_response` call, else its
 * provider's. Throws the 501 of a provider without an adapter, or the 400 of an endpoint it does not serve.
 */
export function providerFor(d: DeploymentRef, endpoint: Endpoint, mocked: boolean): ProviderAdapter {
  const adapter = mocked ? mock : PROVIDERS.get(d.provider);
  if (!adapter) {
    throw new GatewayError(`Provider "${d.provider}" has no adapter in Tollgate (model group ${d.group})`, {
      status: 501, type: 'not_implemented_error', provider: d.provider,
    });
  }
  const refused = endpointRefusal(d, endpoint, mocked);
  if (refused) throw refused;
  return endpoint === 'responses' && !adapter.endpoints.has('responses') ? bridgeResponses(adapter) : adapter;
}

/**
 * Whether a deployment's adapter serves the Responses API itself (else through chat, responses-bridge/).
 */
export function speaksResponses(d: DeploymentRef, mocked: boolean): boolean {
  return (mocked ? mock : PROVIDERS.get(d.provider))?.endpoints.has('responses') === true;
}

/**
 * The 400 of a deployment whose adapter does not serve `endpoint` (the router skips such deployments of a
 * group, and a group with none for its fallbacks); undefined when it does, or has no adapter at all.
 * A provider that speaks chat serves the Responses API through it (responses-bridge/). Azure Document
 * Intelligence is refused on every endpoint: azure_ai/ would send it Mistral's body.
 */
export function endpointRefusal(d: DeploymentRef, endpoint: Endpoint, mocked: boolean): GatewayError | undefined {
  const adapter = mocked ? mock : PROVIDERS.get(d.provider);
  if (!mocked && d.provider === 'azure_ai' && AZURE_DOCUMENT_INTELLIGENCE.test(d.model)) {
    return new GatewayError(`Model group ${d.group} (azure_ai/${d.model}) is Azure Document Intelligence, which is not supported: azure_ai/ serves Mistral Document AI's OCR only (e.g. azure_ai/mistral-document-ai-2505)`, {
      status: 400, type: 'bad_request_error', param: 'model',
    });
  }
  if (!adapter || adapter.endpoints.has(endpoint) || (endpoint === 'responses' && adapter.endpoints.has('chat'))) return undefined;
  const who = mocked ? 'mock_response' : `${d.provider}`;
  return new GatewayError(`Model group ${d.group} (${who}) does not serve /${ENDPOINT_PATHS[endpoint]}`, {
    status: 400, type: 'bad_request_error', param: 'model',
  });
}
