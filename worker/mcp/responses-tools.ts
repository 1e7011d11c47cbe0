/**
 * LiteLLM's MCP tools in the Responses API, for every model: a `tools` entry `{type: "mcp", server_url:
 * "litellm_proxy"}` (or `"litellm_proxy/mcp/<server>[,<server>]"`) stands for the tools of the gateway's
 * own MCP servers the key may use. They are offered to the model as functions (`<server>-<tool>`); when the
 * model calls them, the gateway calls the tools and gives the model their results, turn after turn, until
 * it answers (at most MAX_TURNS turns). Each turn is a call of its own (admitted, billed, logged), each tool
 * call too; the answer is the last turn's, with OpenAI's `mcp_list_tools` and `mcp_call` items before its
 * output, and the turns' usage added up. A streamed request gets that answer as a stream of events.
 */
import { isObject, type Json } from '../json.ts';
import type { McpServer } from './schema.ts';
import { TOOL_SEPARATOR } from './access.ts';

/** The most model turns one request makes: a model that keeps calling tools is answered with its last turn. */
export const MAX_TURNS = 10;

/** A `tools` entry of the gateway's own MCP servers (other `mcp` entries are a provider's to call). */
export function isProxyMcpTool(tool: unknown): tool is Json {
  return isObject(tool) && tool.type === 'mcp' && typeof tool.server_url === 'string' && /^litellm_proxy(\/|$)/.test(tool.server_url);
}

export function hasProxyMcpTools(body: Json): boolean {
  return Array.isArray(body.tools) && body.tools.some(isProxyMcpTool);
}

/** The server names an entry's `server_url` names: all the key may use (undefined), or those after `/mcp/`. */
export function serversOf(tool: Json): string[] | undefined {
  const url = String(tool.server_url);
  if (url === 'litellm_proxy' || url === 'litellm_proxy/') return undefined;
  const named = /^litellm_proxy\/mcp\/(.+)$/.exec(url)?.[1];
  return named ? named.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** An entry's `allowed_tools` (a list, or `{tool_names}`), by the servers' own tool names; undefined: all. */
export function allowedToolsOf(tool: Json): Set<string> | undefined {
  const allowed = tool.allowed_tools;
  const list = Array.isArray(allowed) ? allowed : isObject(allowed) && Array.isArray(allowed.tool_names) ? allowed.tool_names : undefined;
  return list ? new Set(list.filter((t): t is string => typeof t === 'string')) : undefined;
}

/** One server's tools as the model is offered them (functions) and as the answer lists them (`mcp_list_tools`). */
export function offeredTools(server: string, tools: Json[]): { functions: Json[]; listing: Json } {
  return {
    functions: tools.map((t) => ({
      type: 'function', name: `${server}${TOOL_SEPARATOR}${String(t.name)}`, description: typeof t.description === 'string' ? t.description : '',
      parameters: isObject(t.inputSchema) ? t.inputSchema : { type: 'object', properties: {} }, strict: false,
    })),
    listing: {
      type: 'mcp_list_tools', id: `mcpl_${crypto.randomUUID().replace(/-/g, '')}`, server_label: server,
      tools: tools.map((t) => ({ name: t.name, description: t.description ?? null, input_schema: t.inputSchema ?? {}, annotations: t.annotations ?? null })),
    },
  };
}

/** What a tool's result says to the model: its text parts joined, else its content as JSON. */
export function toolOutputText(result: Json): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const texts = content.filter((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string').map((p) => (p as { text: string }).text);
  if (texts.length === content.length && texts.length) return texts.join('\n');
  return JSON.stringify(isObject(result.structuredContent) ? result.structuredContent : content);
}

/** The input a request's `input` is, as a list of items (a string is one user message). */
export function inputItems(input: unknown): unknown[] {
  if (Array.isArray(input)) return input;
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return [];
}

/** Adds a turn's usage to the sum (input, output and total tokens, and their details' counts). */
export function addUsage(sum: Json | undefined, turn: unknown): Json | undefined {
  if (!isObject(turn)) return sum;
  if (!sum) return structuredClone(turn);
  for (const [k, v] of Object.entries(turn)) {
    if (typeof v === 'number' && typeof sum[k] === 'number') sum[k] = (sum[k] as number) + v;
    else if (isObject(v)) sum[k] = addUsage(isObject(sum[k]) ? sum[k] : undefined, v);
  }
  return sum;
}

/**
 * The events of a Responses API stream carrying a finished response (what a streamed request of the MCP loop
 * gets: the turns run whole, then the answer is streamed): created, each output item added (a message's
 * text as one delta) and done, completed.
 */
export function responseEvents(response: Json): Json[] {
  const events: Json[] = [];
  let sequence = 0;
  const push = (event: Json) => events.push({ ...event, sequence_number: sequence++ });
  const output = Array.isArray(response.output) ? response.output.filter(isObject) : [];
  push({ type: 'response.created', response: { ...response, status: 'in_progress', output: [] } });
  push({ type: 'response.in_progress', response: { ...response, status: 'in_progress', output: [] } });
  output.forEach((item, index) => {
    const base = { output_index: index };
    if (item.type === 'message' && Array.isArray(item.content)) {
      push({ type: 'response.output_item.added', ...base, item: { ...item, status: 'in_progress', content: [] } });
      item.content.filter(isObject).forEach((part, contentIndex) => {
        const at = { ...base, item_id: item.id, content_index: contentIndex };
        if (part.type === 'output_text' && typeof part.text === 'string') {
          push({ type: 'response.content_part.added', ...at, part: { ...part, text: '' } });
          push({ type: 'response.output_text.delta', ...at, delta: part.text, logprobs: [] });
          push({ type: 'response.output_text.done', ...at, text: part.text, logprobs: [] });
          push({ type: 'response.content_part.done', ...at, part });
        } else {
          push({ type: 'response.content_part.added', ...at, part });
          push({ type: 'response.content_part.done', ...at, part });
        }
      });
    } else {
      push({ type: 'response.output_item.added', ...base, item });
    }
    push({ type: 'response.output_item.done', ...base, item });
  });
  push({ type: 'response.completed', response });
  return events;
}

/** Servers of an entry, as the caller may use them; the names asked for that it may not use (or that do not exist). */
export function entryServers(tool: Json, allowed: ReadonlyMap<string, McpServer>): { servers: string[]; missing: string[] } {
  const named = serversOf(tool);
  if (!named) return { servers: [...allowed.keys()], missing: [] };
  return { servers: named.filter((n) => allowed.has(n)), missing: named.filter((n) => !allowed.has(n)) };
}
