/**
 * The web search tool as LiteLLM's interception knows it: which tools in a request it takes over (its own
 * `litellm_web_search`, and the native web search tools of clients such as Claude Code), the standard tool sent
 * to the model instead, the search calls in a model's answer, and the messages a follow-up call adds.
 * Chat Completions and Anthropic Messages shapes; the Responses API's are responses.ts's. Pure functions.
 */
import { isObject } from '../json.ts';
import {
  interceptedResponsesRequest, isResponsesWebSearchTool, responsesFollowUpBody, responsesFollowUpItems, responsesSearchCalls, responsesWithoutSearchCalls,
} from './responses.ts';

export type Dialect = 'chat' | 'messages' | 'responses';
type Json = Record<string, unknown>;

/** LiteLLM's name for its standard web search tool. */
export const WEB_SEARCH_TOOL = 'litellm_web_search';
/** A tool's name in either shape (a chat function's, or a Messages tool's). */
const toolName = (tool: unknown): string | undefined => {
  if (!isObject(tool)) return undefined;
  const name = isObject(tool.function) ? tool.function.name : tool.name;
  return typeof name === 'string' ? name : undefined;
};

/**
 * The names of a model's tool calls that are searches to run: `litellm_web_search`, plus the names of the
 * request's own tools the gateway took over (a bare chat `web_search`, a native `web_search`), never a name only
 * a client's own tool bears (a `web_search` function with its schema stays the client's to answer).
 */
export function searchNames(body: Json, dialect: Dialect): ReadonlySet<string> {
  const names = new Set([WEB_SEARCH_TOOL]);
  // On the Responses API every search tool becomes `litellm_web_search`, the only name the model is offered.
  if (dialect === 'responses') return names;
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    const name = toolName(tool);
    if (name && isWebSearchTool(tool, dialect)) names.add(name);
  }
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    const name = toolName(tool);
    if (name && name !== WEB_SEARCH_TOOL && !isWebSearchTool(tool, dialect)) names.delete(name);
  }
  return names;
}

const DESCRIPTION = 'Search the web for information. Use this when you need current information or answers to questions that require up-to-date data.';
const PARAMETERS = { type: 'object', properties: { query: { type: 'string', description: 'The search query to execute' } }, required: ['query'] };

/** The standard tool in each dialect's shape. */
const standardTool = (dialect: Dialect): Json => dialect === 'chat'
  ? { type: 'function', function: { name: WEB_SEARCH_TOOL, description: DESCRIPTION, parameters: PARAMETERS } }
  : { name: WEB_SEARCH_TOOL, description: DESCRIPTION, input_schema: PARAMETERS };

/**
 * Whether a tool of the request is a web search the gateway runs, as LiteLLM tells: `litellm_web_search` in either
 * shape; a chat function named just `web_search` (nothing else defined: a client's own `web_search` with a schema
 * stays the client's); on /v1/messages also Anthropic's native `web_search_*` types, Claude Code's typed
 * `web_search`, and a schema-less `WebSearch` marker.
 */
export function isWebSearchTool(tool: unknown, dialect: Dialect): boolean {
  if (dialect === 'responses') return isResponsesWebSearchTool(tool);
  if (!isObject(tool)) return false;
  if (tool.name === WEB_SEARCH_TOOL) return true;
  if (tool.type === 'function' && isObject(tool.function)) {
    const fn = tool.function;
    return fn.name === WEB_SEARCH_TOOL || (fn.name === 'web_search' && Object.keys(fn).length === 1);
  }
  if (dialect === 'chat') return false;
  const type = typeof tool.type === 'string' ? tool.type : '';
  return type.startsWith('web_search_') || (tool.name === 'web_search' && type !== '') || (tool.name === 'WebSearch' && !('input_schema' in tool));
}

/** Quick test on the raw body before any parse: a body naming no web search tool cannot carry one. */
export const mayNameWebSearch = (text: string) => text.includes('web_search') || text.includes('WebSearch');

/**
 * The request as the model is sent it, when it offers a web search tool (else undefined: nothing to intercept):
 * every web search tool replaced by one standard `litellm_web_search` (a native tool would make the provider try
 * to search itself), a `tool_choice` that forced one now forcing it, and not streamed (the loop reads whole answers).
 */
export function interceptedRequest(body: Json, dialect: Dialect): Json | undefined {
  if (dialect === 'responses') return interceptedResponsesRequest(body);
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (!tools.some((t) => isWebSearchTool(t, dialect))) return undefined;
  const kept = tools.filter((t) => !isWebSearchTool(t, dialect));
  const out: Json = { ...body, tools: [...kept, standardTool(dialect)], stream: false };
  delete out.stream_options;
  const choice = body.tool_choice;
  // Only a choice naming a tool the gateway took over: a client's own `WebSearch` (with its schema) stays forced.
  if (dialect === 'messages' && isObject(choice) && choice.type === 'tool' && typeof choice.name === 'string' && searchNames(body, dialect).has(choice.name)) {
    out.tool_choice = { ...choice, name: WEB_SEARCH_TOOL };
  }
  if (dialect === 'chat' && isObject(choice) && isObject(choice.function) && searchNames(body, dialect).has(choice.function.name as string)) {
    out.tool_choice = { type: 'function', function: { name: WEB_SEARCH_TOOL } };
  }
  return out;
}

/** A search the model asked for: the call's id and its query ('' when it gave none). */
export interface SearchCall {
  id: string;
  query: string;
}

const queryOf = (input: unknown): string => (isObject(input) && typeof input.query === 'string' ? input.query.trim() : '');

function parsedArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * The searches a model's answer asks for. Undefined when there are none, or when the answer also calls a tool of
 * the client's (that call is the client's to answer, so the answer goes back as it is).
 */
export function searchCalls(answer: Json, dialect: Dialect, names: ReadonlySet<string>): SearchCall[] | undefined {
  if (dialect === 'responses') return responsesSearchCalls(answer, names);
  const calls: SearchCall[] = [];
  let others = 0;
  if (dialect === 'chat') {
    const choice = Array.isArray(answer.choices) ? answer.choices[0] : undefined;
    const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
    for (const call of Array.isArray(message?.tool_calls) ? message.tool_calls : []) {
      const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
      if (fn && names.has(fn.name as string)) calls.push({ id: String(call.id), query: queryOf(parsedArguments(fn.arguments)) });
      else others++;
    }
  } else {
    for (const block of Array.isArray(answer.content) ? answer.content : []) {
      if (!isObject(block) || block.type !== 'tool_use') continue;
      if (names.has(block.name as string)) calls.push({ id: String(block.id), query: queryOf(block.input) });
      else others++;
    }
  }
  return calls.length && !others ? calls : undefined;
}

/**
 * The messages a follow-up call appends: the model's turn as it came (its text and thinking blocks kept, as
 * Anthropic requires), then one tool result per search, in the dialect's shape (on the Responses API without
 * the provider's item ids, responses.ts).
 */
export function followUpMessages(answer: Json, dialect: Dialect, calls: SearchCall[], results: string[]): Json[] {
  if (dialect === 'responses') return responsesFollowUpItems(answer, calls, results);
  if (dialect === 'chat') {
    const choice = (answer.choices as Json[])[0]!;
    const message = choice.message as Json;
    const turn: Json = { role: 'assistant', content: message.content ?? null, tool_calls: message.tool_calls };
    return [turn, ...calls.map((call, i) => ({ role: 'tool', tool_call_id: call.id, content: results[i] }))];
  }
  return [
    { role: 'assistant', content: answer.content },
    { role: 'user', content: calls.map((call, i) => ({ type: 'tool_result', tool_use_id: call.id, content: results[i] })) },
  ];
}

/**
 * A follow-up must not force another search (a forced tool would never let the model answer): `tool_choice` back
 * to auto. `added` is what this round appended (a Responses request on a stored `conversation` sends only that).
 */
export function followUpBody(request: Json, messages: Json[], dialect: Dialect, added: Json[] = []): Json {
  if (dialect === 'responses') return responsesFollowUpBody(request, messages, added);
  const body: Json = { ...request, messages };
  const choice = request.tool_choice;
  if (isObject(choice) && (choice.type === 'tool' || choice.type === 'function' || choice.type === 'any')) body.tool_choice = dialect === 'chat' ? 'auto' : { type: 'auto' };
  if (choice === 'required') body.tool_choice = 'auto';
  return body;
}

/**
 * The last answer when the ceiling stops the loop while the model still asks to search: its search calls taken
 * out and the turn ended (the client never declared `litellm_web_search`, so it could not answer such a call), as
 * LiteLLM ends a /v1/messages turn at its ceiling.
 */
export function withoutSearchCalls(answer: Json, dialect: Dialect, names: ReadonlySet<string>): Json {
  if (dialect === 'responses') return responsesWithoutSearchCalls(answer, names);
  if (dialect === 'chat') {
    const choices = (answer.choices as Json[]).map((choice, i) => {
      if (i !== 0) return choice;
      const { tool_calls: _dropped, ...message } = choice.message as Json;
      return { ...choice, message: { ...message, content: message.content ?? '' }, finish_reason: 'stop' };
    });
    return { ...answer, choices };
  }
  const content = (answer.content as Json[]).filter((b) => !(b.type === 'tool_use' && names.has(b.name as string)));
  return { ...answer, content, stop_reason: 'end_turn' };
}
