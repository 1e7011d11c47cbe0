/**
 * The web search interception suite's fake model on OpenAI's Responses wire (`POST /v1/responses`): offered the
 * `litellm_web_search` function it answers with a reasoning item and a `function_call` of it (a query made from
 * the question; the `always-search` model on every turn, a new query each time, `repeat-search` the same one),
 * and with a `function_call_output` last in the input (or `tool_choice: "none"`) it answers a message quoting the
 * output's first line, as api.openai.com shapes a response. `two-accounts` keeps the ids it gives out per account
 * (api key) and refuses an input item whose id that account did not give out, as OpenAI does ("Item with id ...
 * not found"); each account answers one call per question and fails the next (500), so a follow-up lands on the
 * other account. `too-long` refuses every call as past its context window; `short-window` only its follow-ups
 * (a `function_call_output` in the input). `ignores-none` searches on every turn, `tool_choice: "none"` or not.
 * Offered a provider-run MCP server (`{type: "mcp", server_url}` not the proxy's), a response starts with the
 * `mcp_list_tools` item OpenAI lists the server's tools in.
 */
import type { ServerResponse } from 'node:http';
import { fakeId } from './openai-format.ts';
import { responseObject, responsesUsage } from './openai-responses.ts';
import type { RecordedRequest } from './upstream.ts';
import { sendJson } from './upstream-wire.ts';

type Json = Record<string, any>;

/** The question: the input string, or the first user message's text. */
function questionOf(input: unknown): string {
  if (typeof input === 'string') return input;
  const first = (input as Json[]).find((i) => (i.type ?? 'message') === 'message' && i.role === 'user');
  const content = first?.content;
  return typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: Json) => p.text ?? '').join('') : '';
}

/** `two-accounts`' ids given out and questions answered, by account. */
const accounts = new Map<string, { ids: Set<string>; answered: Set<string> }>();

/** `two-accounts`' refusal of the call, if any; else it keeps the ids of the response about to be sent. */
function accountRefusal(request: RecordedRequest, input: Json[], res: ServerResponse): boolean {
  const account = String(request.headers.authorization);
  const state = accounts.get(account) ?? { ids: new Set<string>(), answered: new Set<string>() };
  accounts.set(account, state);
  const unknown = input.find((i) => typeof i.id === 'string' && !state.ids.has(i.id));
  if (unknown) {
    sendJson(res, 400, { error: { message: `Item with id '${unknown.id}' not found.`, type: 'invalid_request_error', param: 'input', code: null } });
    return true;
  }
  const question = questionOf((request.body as Json).input);
  if (state.answered.has(question)) {
    sendJson(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
    return true;
  }
  state.answered.add(question);
  return false;
}

/** Sends a response, `two-accounts` keeping its items' ids for the account. */
function send(request: RecordedRequest, res: ServerResponse, response: Json): void {
  if ((request.body as Json).model === 'two-accounts') {
    const ids = accounts.get(String(request.headers.authorization))!.ids;
    for (const item of response.output as Json[]) ids.add(item.id);
  }
  sendJson(res, 200, response);
}

export function answerAsResponsesModel(request: RecordedRequest, res: ServerResponse): void {
  const body = request.body as Json;
  const input = Array.isArray(body.input) ? (body.input as Json[]) : [];
  const last = input[input.length - 1];
  if (body.model === 'too-long' || (body.model === 'short-window' && input.some((i) => i.type === 'function_call_output'))) {
    sendJson(res, 400, { error: { message: 'This model\'s maximum context length is 10 tokens.', type: 'invalid_request_error', param: 'input', code: 'context_length_exceeded' } });
    return;
  }
  if (body.model === 'two-accounts' && accountRefusal(request, input, res)) return;
  const offered = (body.tool_choice !== 'none' || body.model === 'ignores-none') && (body.tools ?? []).some((t: Json) => t.type === 'function' && t.name === 'litellm_web_search');
  const usage = responsesUsage(20, 10);
  const mcp = (body.tools ?? []).find((t: Json) => t.type === 'mcp');
  const listed = mcp ? [{ id: fakeId('mcpl_'), type: 'mcp_list_tools', server_label: mcp.server_label, tools: [{ name: 'lookup', input_schema: { type: 'object' } }] }] : [];
  const anew = body.model === 'always-search' || body.model === 'ignores-none';
  if (offered && (anew || body.model === 'repeat-search' || last?.type !== 'function_call_output')) {
    // `always-search` (and `ignores-none`) asks something new each turn; `repeat-search` the same again.
    const round = anew ? input.filter((i) => i.type === 'function_call_output').length : 0;
    const response = responseObject(body.model, '', usage);
    response.output = [
      ...listed,
      { id: fakeId('rs_'), type: 'reasoning', summary: [] },
      { id: fakeId('fc_'), type: 'function_call', status: 'completed', call_id: fakeId('call_'), name: 'litellm_web_search', arguments: JSON.stringify({ query: `news about ${questionOf(body.input)}${round ? ` (${round + 1})` : ''}` }) },
    ] as never;
    send(request, res, response);
    return;
  }
  const said = last?.type === 'function_call_output' ? `From the web: ${String(last.output).split('\n')[0]}` : 'plain answer';
  const response = responseObject(body.model, said, usage);
  response.output = [...listed, ...response.output] as never;
  send(request, res, response);
}
