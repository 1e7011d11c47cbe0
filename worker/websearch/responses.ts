/**
 * The web search tool on OpenAI's Responses API (`POST /v1/responses`), as LiteLLM's interception knows it there:
 * OpenAI's hosted `web_search` / `web_search_preview` tools (and their dated `web_search_*` types) and a flat
 * function tool named `litellm_web_search` are sent to the model as that one function tool; the model's
 * `function_call` output items calling it are the searches, and a follow-up replays the request's input with the
 * model's turn and one `function_call_output` per search, as LiteLLM's rerun does (so it works the same on
 * providers that speak the API and on those bridged through chat). Pure functions; tools.ts dispatches to them.
 */
import { isObject } from '../json.ts';
import { inputItems, isProxyMcpTool } from '../mcp/responses-tools.ts';
import type { SearchCall } from './tools.ts';

type Json = Record<string, unknown>;

const NAME = 'litellm_web_search';
const DESCRIPTION = 'Search the web for information. Use this when you need current information or answers to questions that require up-to-date data.';
const PARAMETERS = { type: 'object', properties: { query: { type: 'string', description: 'The search query to execute' } }, required: ['query'] };

/** LiteLLM's standard tool in the Responses API's flat function shape. */
const STANDARD_TOOL: Json = { type: 'function', name: NAME, description: DESCRIPTION, parameters: PARAMETERS };

/** Whether a Responses tool is one the gateway runs: a hosted `web_search*` type, or the `litellm_web_search` function. */
export function isResponsesWebSearchTool(tool: unknown): boolean {
  if (!isObject(tool) || typeof tool.type !== 'string') return false;
  if (tool.type === 'function') return tool.name === NAME;
  return tool.type === 'web_search' || tool.type.startsWith('web_search_');
}

/** A `tool_choice` that forces a web search tool (a hosted one by type, or the function by name). */
const forcesSearch = (choice: unknown) => isObject(choice) && (
  (choice.type === 'function' && choice.name === NAME) || (typeof choice.type === 'string' && choice.type !== 'function' && isResponsesWebSearchTool({ type: choice.type }))
);

/**
 * An `allowed_tools` choice with its web search entries naming the standard function instead (once), as the
 * hosted tools they name are not sent: a provider refuses a choice naming a tool the request lacks.
 */
function allowedToolsChoice(choice: Json): Json {
  const listed = Array.isArray(choice.tools) ? choice.tools : [];
  if (!listed.some(isResponsesWebSearchTool)) return choice;
  return { ...choice, tools: [...listed.filter((t) => !isResponsesWebSearchTool(t)), { type: 'function', name: NAME }] };
}

/**
 * The request as the model is sent it, when it offers a web search tool and is one the loop can run (not a
 * `background` response, whose answer comes later, nor one with the proxy's MCP tools, `litellm_proxy` or
 * `litellm_proxy/mcp/<server>`, whose own loop runs it): the search tools replaced by the one standard function,
 * a choice forcing one (or listing one in `allowed_tools`) now naming it, not streamed.
 */
export function interceptedResponsesRequest(body: Json): Json | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (!tools.some(isResponsesWebSearchTool) || body.background === true) return undefined;
  if (tools.some(isProxyMcpTool)) return undefined;
  const out: Json = { ...body, tools: [...tools.filter((t) => !isResponsesWebSearchTool(t)), STANDARD_TOOL], stream: false };
  delete out.stream_options;
  if (forcesSearch(body.tool_choice)) out.tool_choice = { type: 'function', name: NAME };
  else if (isObject(body.tool_choice) && body.tool_choice.type === 'allowed_tools') out.tool_choice = allowedToolsChoice(body.tool_choice);
  return out;
}

const queryOf = (raw: unknown): string => {
  let input: unknown = raw;
  if (typeof raw === 'string') {
    try {
      input = JSON.parse(raw);
    } catch {
      return '';
    }
  }
  return isObject(input) && typeof input.query === 'string' ? input.query.trim() : '';
};

/**
 * Output items that are calls for the client to run (its function and custom tools, computer use, local shell,
 * apply_patch, an MCP approval to give). The provider's own calls (`mcp_list_tools`, `mcp_call`,
 * `file_search_call`, `web_search_call`, `code_interpreter_call`, `image_generation_call`) ran on its side already
 * and wait on nobody, so a search beside them is still the gateway's to run.
 */
const CLIENT_CALLS = new Set(['function_call', 'custom_tool_call', 'computer_call', 'local_shell_call', 'shell_call', 'apply_patch_call', 'mcp_approval_request']);

/**
 * The searches a response asks for: its `function_call` items naming a search tool. Undefined when there are
 * none, or when it also calls a tool the client runs (the client's to answer, so the response goes back as it is).
 */
export function responsesSearchCalls(answer: Json, names: ReadonlySet<string>): SearchCall[] | undefined {
  const calls: SearchCall[] = [];
  let others = 0;
  for (const item of Array.isArray(answer.output) ? answer.output : []) {
    if (!isObject(item) || typeof item.type !== 'string' || !CLIENT_CALLS.has(item.type)) continue;
    if (item.type === 'function_call' && names.has(item.name as string)) calls.push({ id: String(item.call_id), query: queryOf(item.arguments) });
    else others++;
  }
  return calls.length && !others ? calls : undefined;
}

/** The request's input as a list of items (a string is one user message), for the follow-ups to append to. */
export const responsesInput = (request: Json): Json[] => inputItems(request.input) as Json[];

/**
 * The items a follow-up appends, in LiteLLM's id-less form (its rerun's request patch): the model's text and
 * calls (`call_id`, `name`, `arguments`), then one `function_call_output` per search. No item carries the
 * provider's id: each round is routed afresh, and another deployment of the group (another account, a retry's
 * or a fallback's) stored none of them and would refuse the follow-up ("Item with id ... not found"). A
 * reasoning item goes back only with its `encrypted_content` (without it, it is nothing but its id). The
 * provider's own tool items (`mcp_list_tools`, `mcp_call`, `file_search_call`, ...) are left out, as LiteLLM's
 * rerun leaves them: as input they are valid only with their ids, and the provider runs them again if the model
 * needs them (their tools are still offered).
 */
export function responsesFollowUpItems(answer: Json, calls: SearchCall[], results: string[]): Json[] {
  const turn: Json[] = [];
  for (const item of Array.isArray(answer.output) ? answer.output : []) {
    if (!isObject(item)) continue;
    if (item.type === 'function_call') turn.push({ type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments });
    else if (item.type === 'message') turn.push({ type: 'message', role: item.role ?? 'assistant', content: item.content });
    else if (item.type === 'reasoning' && typeof item.encrypted_content === 'string') {
      turn.push({ type: 'reasoning', summary: Array.isArray(item.summary) ? item.summary : [], encrypted_content: item.encrypted_content });
    }
  }
  return [...turn, ...calls.map((call, i) => ({ type: 'function_call_output', call_id: call.id, output: results[i] }))];
}

/**
 * A follow-up's body: the replayed input, and any `tool_choice` but `none` made `auto` (LiteLLM's rerun drops
 * it), so a choice that forced a search, or `required`, lets the model answer. A request on a stored
 * `conversation` sends only what is new, as the provider keeps the earlier items (its input and the model's
 * turn) in the conversation itself.
 */
export function responsesFollowUpBody(request: Json, input: Json[], added: Json[]): Json {
  const body: Json = { ...request, input: request.conversation ? added.filter((i) => i.type === 'function_call_output') : input };
  if (request.tool_choice !== undefined && request.tool_choice !== 'none') body.tool_choice = 'auto';
  return body;
}

/** The last response at the loop's ceiling: its search calls taken out, so the client gets the model's text alone. */
export function responsesWithoutSearchCalls(answer: Json, names: ReadonlySet<string>): Json {
  const output = (Array.isArray(answer.output) ? answer.output : []).filter((item) => !(isObject(item) && item.type === 'function_call' && names.has(item.name as string)));
  return { ...answer, output };
}
