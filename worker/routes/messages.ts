import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { identify } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { authorizeModel } from '../models/access.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { currentCatalog } from '../models/catalog.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { chatRequestSchema } from '../openai/request-schemas.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { confirmCaller } from '../proxy/confirm-caller.ts';
import { namesPrompt, refuseUnappliedPrompt } from '../proxy/prompt-body.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { recordRefusedCall } from '../proxy/refused-call.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { estimateInputTokens } from './messages/count-tokens.ts';
import { anthropicErrorBody, anthropicErrorResponse, envelopeMessage } from './messages/errors.ts';
import { type MessagesRequest, messagesRequestSchema } from './messages/request-schema.ts';
import { chatCompletionSchema, toAnthropicMessage } from './messages/to-anthropic-response.ts';
import { toAnthropicStream } from './messages/to-anthropic-stream.ts';
import { toOpenAIChatRequest } from './messages/to-openai-request.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `POST /v1/messages`: Anthropic's Messages API in front of every configured
 * model. The request is translated into a chat body and runs the same call as
 * /v1/chat/completions (keys, limits, budgets, routing, spend logs); the
 * answer, plain or streamed, and any error come back in Anthropic's format.
 */
export async function messages(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const request = await admittedRequest(c, state);
    const anthropicTarget = await servedByAnthropic(c, state, request.model);
    const body = toOpenAIChatRequest(request, { anthropicTarget });
    return await toAnthropicAnswer(await handleModelCall(c, 'chat', chatRequestSchema, { body, clientBody: request }));
  } catch (err) {
    return anthropicErrorResponse(err);
  }
}

/**
 * The request's body, read only once the request carries a key from an allowed IP: as on every model
 * call, a request without one is refused (401/403) before its body is read or a model looked up. A
 * body naming a managed prompt is refused once the key is known and usable, as a chat's is (an unknown
 * key gets its 401 first): the translation and its Anthropic-only blocks are decided on the request's
 * model, which a prompt would change. A refusal counts as the chat call's, as handleModelCall counts its own.
 */
async function admittedRequest(c: Ctx, state: GatewayState): Promise<MessagesRequest> {
  try {
    const who = await identify(headerSnapshot(c.req.raw.headers), state, c.req.path);
    const request = await readJsonBody(c.req.raw, messagesRequestSchema, bodyLimit(state.config));
    if (namesPrompt(request)) await refuseUnappliedPrompt(request, '/v1/messages', () => confirmCaller(c.env, who, c.req.path));
    return request;
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'chat', {}, err);
    throw err;
  }
}

/** `POST /v1/messages/count_tokens`: `{"input_tokens": N}`, estimated, for a model the key may call. */
export async function countTokens(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const request = await readJsonBody(c.req.raw, messagesRequestSchema, bodyLimit(state.config));
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: request.model });
    authorizeModel(caller, request.model, catalog);
    // Whatever /v1/messages would serve: a group, a model_group_alias, a wildcard group's match.
    if (!resolveGroup(state.config, catalog, request.model).deployments.length) {
      throw new GatewayError(`Invalid model name passed in model=${request.model}. Call \`/v1/models\` to view available models for your key.`, {
        status: 400, type: 'bad_request_error', param: 'model',
      });
    }
    return Response.json({ input_tokens: estimateInputTokens(request) });
  } catch (err) {
    return anthropicErrorResponse(err);
  }
}

/** Whether every deployment of the group is Anthropic's, so Anthropic-only detail may ride along (see TranslationOptions). */
async function servedByAnthropic(c: Ctx, state: GatewayState, group: string): Promise<boolean> {
  const { deployments } = resolveGroup(state.config, await currentCatalog(state, c.env, c.executionCtx, { missing: group }), group);
  return deployments.length > 0 && deployments.every((d) => d.provider === 'anthropic');
}

/** The chat call's response in Anthropic's format, its status and LiteLLM headers kept. */
async function toAnthropicAnswer(res: Response): Promise<Response> {
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  if (res.status >= 400) {
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(anthropicErrorBody(res.status, envelopeMessage(await res.text()))), { status: res.status, headers });
  }
  if (res.body && (res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    return new Response(toAnthropicStream(res.body), { status: res.status, headers });
  }
  let json: unknown;
  try {
    json = JSON.parse(await res.text());
  } catch {
    json = undefined;
  }
  const parsed = chatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    throw new GatewayError('The provider\'s answer could not be read as a chat completion', { status: 502, type: 'api_connection_error' });
  }
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(toAnthropicMessage(parsed.data)), { status: res.status, headers });
}
