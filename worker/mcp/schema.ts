import { z } from 'zod';
import { bool, nonNegative, str, strList } from '../config/fields.ts';

/** How a server's own credential (`auth_value`) is sent: LiteLLM's auth types (upstream.ts serverHeaders). */
export const AUTH_TYPES = ['none', 'api_key', 'bearer_token', 'basic', 'authorization', 'token'] as const;

/**
 * One MCP server (config.yaml's `mcp_servers`, or a stored one as the gateway reads it: servers.ts), reached
 * over Streamable HTTP or the earlier HTTP+SSE transport, whose tools and prompts the gateway offers under
 * `<server name>-<name>` and whose resources by their URIs.
 */
export const mcpServerSchema = z.object({
  /** A stored server's id (/v1/mcp/server); a grant may name a server by it as well as by its name. */
  server_id: str.optional(),
  url: str.url('expected an http(s) URL'),
  /** `http` (Streamable HTTP) or `sse` (the earlier HTTP+SSE transport). `stdio` servers are not served (a warning names them). */
  transport: z.enum(['http', 'sse', 'stdio'], { error: 'expected http, sse or stdio' }).default('http'),
  /** How the server's own credential (`auth_value`) is sent: LiteLLM's auth types. */
  auth_type: z.enum(AUTH_TYPES, { error: `expected one of ${AUTH_TYPES.join(', ')}` }).optional(),
  auth_value: str.optional(),
  /** Headers sent with every request to the server (a credential of its own kind). */
  static_headers: z.record(str, str).optional(),
  description: str.optional(),
  /** Only these tools are offered (by the server's own names); `disallowed_tools` are never. */
  allowed_tools: strList.optional(),
  disallowed_tools: strList.optional(),
  /** LiteLLM's MCP access groups: a key whose `object_permission.mcp_access_groups` names one may use the server. */
  access_groups: strList.optional(),
  /** Every virtual key may use the server (else only keys it is granted to, and the master key). */
  allow_all_keys: bool.optional(),
  /** Seconds a tool call may take (600 unless set); listing tools waits at most 30 s. */
  timeout: nonNegative.refine((v) => v > 0, 'must be more than 0').optional(),
  mcp_info: z.looseObject({
    server_name: str.optional(),
    description: str.optional(),
    /** LiteLLM's MCP cost tracking: what one tool call costs, by default and per tool. */
    mcp_server_cost_info: z.object({
      default_cost_per_query: nonNegative.optional(),
      tool_name_to_cost_per_query: z.record(str, nonNegative).optional(),
    }).optional(),
  }).optional(),
});

export type McpServer = z.output<typeof mcpServerSchema>;

/** Server names: letters, digits, `_` and `.` (LiteLLM's SEP-986 rule, without `-`, which separates a server's name from its tools'). */
export const MCP_SERVER_NAME = /^[A-Za-z0-9_.]{1,64}$/;

export const mcpServersSchema = z.record(str, mcpServerSchema).superRefine((servers, ctx) => {
  for (const name of Object.keys(servers)) {
    if (!MCP_SERVER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a server name is 1-64 letters, digits, _ or . (no -, which separates it from its tools\' names)' });
  }
});
