import type { Context } from 'hono';
import { z } from 'zod';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema } from '../openai/request-schemas.ts';
import { groupForwardsHeaders } from '../router/header-groups.ts';
import { forwardedHeaders, headerSnapshot, validated, withoutCredentials } from '../proxy/call-helpers.ts';
import { shownRequest } from '../providers/outgoing-shown.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { endpointRefusal, providerFor } from '../providers/registry.ts';
import type { Endpoint } from '../providers/types.ts';
import { gatewayState } from '../state.ts';
import { callableGroup } from './callable-group.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** LiteLLM's call types this route describes, each the gateway endpoint and body schema a call of it has. */
const CALL_TYPES: Record<string, { endpoint: Endpoint; schema: z.ZodType<Record<string, unknown>> }> = {
  completion: { endpoint: 'chat', schema: chatRequestSchema },
  acompletion: { endpoint: 'chat', schema: chatRequestSchema },
  text_completion: { endpoint: 'completion', schema: completionRequestSchema },
  atext_completion: { endpoint: 'completion', schema: completionRequestSchema },
  embedding: { endpoint: 'embedding', schema: embeddingRequestSchema },
  aembedding: { endpoint: 'embedding', schema: embeddingRequestSchema },
};

const transformRequestSchema = z.object({
  call_type: z.string({ error: 'call_type is required' }),
  request_body: z.record(z.string(), z.unknown(), { error: 'request_body must be an object' }),
});

/**
 * LiteLLM's `POST /utils/transform_request`: `{raw_request_api_base, raw_request_body, raw_request_headers}`, the
 * request a call of `request_body` would send to the first deployment of its group that serves it, built by that
 * provider's adapter (ProviderAdapter.outgoing) and sent nowhere. Credentials are masked (outgoing-shown.ts);
 * nothing is signed (Bedrock) and no token fetched (Vertex AI). For a group the key may call, as the call would be.
 *
 * @example POST /utils/transform_request {"call_type": "completion", "request_body": {"model": "claude", "messages": [...]}}
 *   → {"raw_request_api_base": "https://api.anthropic.com/v1/messages", "raw_request_body": {"model": "claude-...", "max_tokens": 4096, ...},
 *      "raw_request_headers": {"x-api-key": "sk-...ABCD", "anthropic-version": "2023-06-01", ...}}
 */
export async function transformRequest(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const { call_type: callType, request_body: requestBody } = await readJsonBody(c.req.raw, transformRequestSchema, bodyLimit(state.config));
    const kind = CALL_TYPES[callType];
    if (!kind) {
      throw new GatewayError(`call_type "${callType.slice(0, 40)}" is not supported here: one of ${Object.keys(CALL_TYPES).join(', ')}`, {
        status: 400, type: 'bad_request_error', param: 'call_type',
      });
    }
    const body = validated(kind.schema, requestBody);
    if (typeof body.model !== 'string' || body.model === '') throw new GatewayError('request_body.model is required', { status: 400, type: 'bad_request_error', param: 'model' });
    const deployments = await callableGroup(c, state, caller, body.model);
    const mocked = typeof body.mock_response === 'string';
    // The router skips a group's deployments that do not serve the endpoint; with none, the first one's refusal.
    const deployment = deployments.find((d) => !endpointRefusal(d, kind.endpoint, mocked)) ?? deployments[0]!;
    const adapter = providerFor(deployment, kind.endpoint, mocked);
    if (!adapter.outgoing || mocked) {
      throw new GatewayError(`Model group ${deployment.group} (${mocked ? 'mock_response' : deployment.provider}) sends no request to a provider that could be shown`, {
        status: 400, type: 'bad_request_error', param: 'model',
      });
    }
    // The client's headers a call would pass on (config's forward_client_headers_to_llm_api), never its credentials.
    const safeHeaders = withoutCredentials(headerSnapshot(c.req.raw.headers), state.keyHeader);
    const forwarded = forwardedHeaders(state.config.general_settings, safeHeaders, groupForwardsHeaders(state.config, [deployment.group, body.model]));
    const outgoing = adapter.outgoing({
      endpoint: kind.endpoint,
      // As a call would send it: secret manager credentials read (shownRequest masks them).
      deployment: await deploymentWithSecrets(deployment, c.env),
      body,
      stream: body.stream === true && kind.endpoint !== 'embedding',
      clientWantsUsage: (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      dropParams: state.config.litellm_settings.drop_params === true,
      env: c.env,
      timeoutMs: 0,
      promptTokenEstimate: 0,
      keepText: false,
      headers: safeHeaders,
      ...(forwarded ? { forwarded } : {}),
    });
    return Response.json(shownRequest(outgoing));
  } catch (err) {
    return errorResponse(err);
  }
}
