/**
 * A2A's JSON-RPC 2.0 errors, as LiteLLM's `/a2a/{agent_id}` answers them: `{jsonrpc, id, error: {code, message}}`
 * with an HTTP status (400 for a bad request, 404 for an unknown agent, 502 when the agent cannot be reached).
 */
import type { Json } from '../json.ts';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** LiteLLM's code for an agent it does not know. */
export const AGENT_NOT_FOUND = -32000;
/** A2A's TaskNotFoundError: what an agent answers for a task it does not know (HTTP 200, as JSON-RPC errors are). */
export const TASK_NOT_FOUND = -32001;

/** A JSON-RPC error response; `callId` (x-litellm-call-id) when the call was admitted. */
export function rpcError(id: Json[string] | undefined, code: number, message: string, status: number, callId?: string): Response {
  return Response.json({ jsonrpc: '2.0', id: id ?? null, error: { code, message } }, { status, headers: callId ? { 'x-litellm-call-id': callId } : {} });
}
