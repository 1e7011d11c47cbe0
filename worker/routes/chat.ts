import type { Context } from 'hono';
import { authenticate } from '../auth/authenticate.ts';
import { parseModelRef } from '../config/providers.ts';
import { runtimeConfig } from '../config/runtime.ts';
import type { Deployment, TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { chatRequestSchema } from '../openai/chat-request.ts';
import { readJsonBody } from '../openai/read-body.ts';
import { mockAnswer, mockCompletion, mockStream } from '../providers/mock/mock-chat.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** `POST /v1/chat/completions` (and `/chat/completions`). */
export async function chatCompletions(c: Ctx): Promise<Response> {
  const { config, masterKey } = runtimeConfig(c.env);
  const body = await readJsonBody(c.req.raw, chatRequestSchema);
  await authenticate(c.req.raw.headers, masterKey);
  const deployment = findDeployment(config, body.model);
  const ref = parseModelRef(deployment.litellm_params.model);
  if (body.mock_response === undefined && (!ref.ok || ref.provider !== 'mock')) {
    throw new GatewayError(`Provider "${ref.ok ? ref.provider : '?'}" is not implemented yet`, {
      status: 501, type: 'not_implemented_error', provider: ref.ok ? ref.provider : undefined,
    });
  }
  const answer = mockAnswer(body, body.model, deployment.litellm_params.mock_response);
  if (body.stream) {
    return new Response(mockStream(answer, body.stream_options?.include_usage === true), {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    });
  }
  return c.json(mockCompletion(answer));
}

function findDeployment(config: TollgateConfig, model: string): Deployment {
  const found = config.model_list.find((d) => d.model_name === model);
  if (!found) {
    throw new GatewayError(`Invalid model name passed in model=${model}. Call \`/v1/models\` to view available models for your key.`, {
      status: 400, type: 'bad_request_error', param: 'model',
    });
  }
  return found;
}
