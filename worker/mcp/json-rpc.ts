/**
 * MCP's JSON-RPC as the gateway speaks it, to clients (the `/mcp` endpoint) and to servers (upstream.ts):
 * the error codes, the protocol versions, the gateway's name, and the answers a request gets.
 */
import type { Json } from '../json.ts';

// JSON-RPC's error codes.
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** A call the gateway refused (limits, budget): the gateway's error in `data`. */
export const REFUSED = -32000;

/** The protocol versions the gateway accepts from clients and servers, newest first. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
/** LiteLLM's name for its MCP server, which clients see in `initialize`. */
export const GATEWAY_INFO = { name: 'litellm-mcp-server', version: '1.0.0' };

/** A JSON-RPC error the server answered (or the gateway made of a failure to reach it). */
export class McpError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export const rpcResult = (id: unknown, result: Json) => Response.json({ jsonrpc: '2.0', id, result });
export const rpcError = (id: unknown, code: number, message: string, data?: unknown, status = 200) =>
  Response.json({ jsonrpc: '2.0', id: id ?? null, error: { code, message, ...(data !== undefined ? { data } : {}) } }, { status });

let nextId = 1;
/** Ids of the gateway's own requests to servers, unique in the isolate. */
export const nextRequestId = () => nextId++;
