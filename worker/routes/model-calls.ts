import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema, responsesRequestSchema } from '../openai/request-schemas.ts';
import { handleModelCall } from '../proxy/model-call.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** `POST /v1/chat/completions`; on Azure-style paths the deployment in the path names the model group. */
export const chatCompletions = (c: Ctx) => handleModelCall(c, 'chat', chatRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/completions` (legacy text completions). */
export const completions = (c: Ctx) => handleModelCall(c, 'completion', completionRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/embeddings`. */
export const embeddings = (c: Ctx) => handleModelCall(c, 'embedding', embeddingRequestSchema, { modelFromPath: c.req.param('model') });
/** `POST /v1/responses` (OpenAI's Responses API), for providers that speak it (OpenAI, vLLM and other OpenAI-compatible servers). */
export const responses = (c: Ctx) => handleModelCall(c, 'responses', responsesRequestSchema);
