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
import { toolName } from './access.ts';

/** The most model turns one request makes; the last one is asked to answer without tools. */
export const MAX_TURNS = 10;
/** The most tool calls one request makes unless `max_tool_calls` says fewer. */
export const DEFAULT_MAX_TOOL_CALLS = 50;
/** The most of one tool's result the model is sent (its text is cut there, saying so). */
export const MAX_OUTPUT_CHARS = 100_000;

/** A `tools` entry of the gateway's own MCP servers (other `mcp` entries are a provider's to call). */
export function isProxyMcpTool(tool: unknown): tool is Json {
  return isObject(tool) && tool.type === 'mcp' && typeof tool.server_url === 'string' && /^litellm_proxy(\/|$)/.test(tool.server_url);
}

export function hasProxyMcpTools(body: Json): boolean {
  return Array.isArray(body.tools) && body.tools.some(isProxyMcpTool);
}

/**
 * The server names an entry's `server_url` names: all the key may use (undefined), or those after `/mcp/`;
 * null for a `litellm_proxy` URL of another form.
 */
export function serversOf(tool: Json): string[] | undefined | null {
  const url = String(tool.server_url);
  if (url === 'litellm_proxy' || url === 'litellm_proxy/') return undefined;
  const named = /^litellm_proxy\/mcp\/(.+)$/.exec(url)?.[1]?.split(',').map((s) => s.trim()).filter(Boolean);
  return named?.length ? named : null;
}

/**
 * An entry's `allowed_tools` as a test of a tool (the servers' own names): a list, `{tool_names}`, and/or
 * `{read_only: true}` (tools that say `annotations.readOnlyHint`); undefined: every tool.
 */
export function toolFilterOf(tool: Json): ((t: Json) => boolean) | undefined {
  const allowed = tool.allowed_tools;
  if (Array.isArray(allowed)) return (t) => allowed.includes(t.name);
  if (!isObject(allowed)) return undefined;
  const names = Array.isArray(allowed.tool_names) ? allowed.tool_names : undefined;
  const readOnly = allowed.read_only === true;
  if (!names && !readOnly) return undefined;
  return (t) => (!names || names.includes(t.name)) && (!readOnly || (isObject(t.annotations) && t.annotations.readOnlyHint === true));
}

/** What the model may call a tool: providers take `^[a-zA-Z0-9_-]{1,64}$`; a name that does not fit is made to, kept unique. */
export function functionName(server: string, tool: string, taken: ReadonlySet<string>): string {
  const plain = toolName(server, tool);
  let name = plain.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  for (let i = 2; taken.has(name); i++) name = `${name.slice(0, 64 - String(i).length - 1)}_${i}`;
  return name;
}

/** One server's tools as the model is offered them (functions, each named for `byName`) and as the answer lists them (`mcp_list_tools`). */
export function offeredTools(server: string, label: string, tools: Json[], byName: Map<string, { server: string; tool: string; label: string }>): { functions: Json[]; listing: Json } {
  const functions: Json[] = [];
  for (const t of tools) {
    const name = functionName(server, String(t.name), new Set(byName.keys()));
    byName.set(name, { server, tool: String(t.name), label });
    functions.push({
      type: 'function', name, description: typeof t.description === 'string' ? t.description : '',
      parameters: isObject(t.inputSchema) ? t.inputSchema : { type: 'object', properties: {} }, strict: false,
    });
  }
  return {
    functions,
    listing: {
      type: 'mcp_list_tools', id: `mcpl_${crypto.randomUUID().replace(/-/g, '')}`, server_label: label,
      tools: tools.map((t) => ({ name: t.name, description: t.description ?? null, input_schema: t.inputSchema ?? {}, annotations: t.annotations ?? null })),
    },
  };
}

/**
 * A request's input with the MCP items of an earlier answer passed back (a client keeping its history by
 * sending the output on): each `mcp_call` as the `function_call` and `function_call_output` the model made
 * and got, `mcp_list_tools` dropped (the tools are offered afresh).
 */
export function replayedInput(items: unknown[], byTool: (label: string, tool: string) => string | undefined): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (isObject(item) && item.type === 'mcp_list_tools') continue;
    if (isObject(item) && item.type === 'mcp_call') {
      const name = byTool(String(item.server_label), String(item.name)) ?? functionName(String(item.server_label), String(item.name), new Set());
      const callId = typeof item.id === 'string' ? item.id : `call_${crypto.randomUUID().replace(/-/g, '')}`;
      out.push({ type: 'function_call', call_id: callId, name, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' });
      const said = typeof item.output === 'string' ? item.output : isObject(item.error) ? `Error: ${JSON.stringify(item.error)}` : '';
      out.push({ type: 'function_call_output', call_id: callId, output: said });
      continue;
    }
    out.push(item);
  }
  return out;
}

/** What a tool's result says to the model: its text parts joined, else its content as JSON; cut at MAX_OUTPUT_CHARS. */
export function toolOutputText(result: Json): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const texts = content.filter((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string').map((p) => (p as { text: string }).text);
  const text = texts.length === content.length && texts.length ? texts.join('\n') : JSON.stringify(isObject(result.structuredContent) ? result.structuredContent : content);
  return text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS)}\n[cut: the tool's result was ${text.length} characters]` : text;
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
  // The end event says how it ended, as the Responses stream writer's does.
  push({ type: response.status === 'incomplete' ? 'response.incomplete' : response.status === 'failed' ? 'response.failed' : 'response.completed', response });
  return events;
}

/** Servers of an entry, as the caller may use them; the names asked for that it may not use (or that do not exist). */
export function entryServers(tool: Json, allowed: ReadonlyMap<string, McpServer>): { servers: string[]; missing: string[] } {
  const named = serversOf(tool);
  if (named === undefined) return { servers: [...allowed.keys()], missing: [] };
  if (named === null) return { servers: [], missing: [String(tool.server_url)] };
  return { servers: named.filter((n) => allowed.has(n)), missing: named.filter((n) => !allowed.has(n)) };
}

/** Adds up dollar amounts without binary noise (1e-12, as costs are rounded). */
export const addCost = (a: number, b: number) => Math.round((a + b) * 1e12) / 1e12;
