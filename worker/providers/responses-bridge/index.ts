import { GatewayError } from '../../errors.ts';
import type { ProviderAdapter, ProviderAnswer, ProviderCall } from '../types.ts';
import { toChatRequest } from './to-chat-request.ts';
import { newShell, toResponse } from './to-response.ts';
import { toResponsesStream } from './to-response-stream.ts';

const decoder = new TextDecoder();
const bridged = new WeakMap<ProviderAdapter, ProviderAdapter>();

/**
 * The adapter of a provider that speaks chat completions but not the
 * Responses API, serving /v1/responses too, as LiteLLM does: the request
 * translated to chat (to-chat-request.ts), sent through the provider's own
 * chat call, and its answer, plain or streamed, translated back. The call's
 * usage, cost and spend-log text are the chat call's. The response is not
 * stored: `previous_response_id` is a 400 on such a model.
 */
export function bridgeResponses(adapter: ProviderAdapter): ProviderAdapter {
  let known = bridged.get(adapter);
  if (!known) {
    known = {
      id: adapter.id,
      endpoints: new Set([...adapter.endpoints, 'responses']),
      call: (call) => (call.endpoint === 'responses' ? callThroughChat(adapter, call) : adapter.call(call)),
    };
    bridged.set(adapter, known);
  }
  return known;
}

/**
 * The 400 the bridge gives this request (what only OpenAI's servers can do), or undefined when it can
 * be served through chat: the router skips bridged deployments of a mixed group for such a request.
 */
export function bridgeRefusal(body: Record<string, unknown>): GatewayError | undefined {
  try {
    toChatRequest(body);
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}

async function callThroughChat(adapter: ProviderAdapter, call: ProviderCall): Promise<ProviderAnswer> {
  const shell = newShell(call.body);
  // The Responses API always reports usage, streamed or not: the chat stream must carry it.
  const answer = await adapter.call({ ...call, endpoint: 'chat', body: toChatRequest(call.body), clientWantsUsage: true });
  if (answer.body instanceof ReadableStream) return { ...answer, contentType: 'text/event-stream', body: toResponsesStream(answer.body, shell) };
  const text = typeof answer.body === 'string' ? answer.body : decoder.decode(answer.body);
  return { ...answer, contentType: 'application/json', body: JSON.stringify(toResponse(JSON.parse(text) as never, shell)) };
}
