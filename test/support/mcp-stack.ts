// The MCP suites' stack (test/mcp*.test.ts): the official MCP SDK's client against /mcp, MCP servers built with the
// SDK's Streamable HTTP server on loopback (one answering with SSE streams, one with JSON, one of the earlier HTTP+SSE
// transport, one taking its users' own tokens), a fake Responses API model, Postgres for spend.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect } from 'vitest';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from '../fakes/upstream.ts';
import { type FakeMcpServer, startFakeMcpServer } from '../fakes/mcp-server.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const MATH_TOKEN = 'math-server-token-0001';

export let math: FakeMcpServer;
export let docs: FakeMcpServer;
export let legacy: FakeMcpServer;
export let llm: FakeUpstream;
export let personal: FakeMcpServer;

/**
 * An OpenAI Responses API model: calls math-add (twice at once when asked "twice"; every turn when asked to
 * "loop"), then answers with the tool's result; told `tool_choice: none`, it answers "gave up".
 */
function responsesModel(request: RecordedRequest, res: ServerResponse): void {
  const body = request.body as { input: { type?: string; output?: string; content?: unknown }[]; tools?: { name?: string }[]; model: string; tool_choice?: unknown };
  const asked = JSON.stringify(body.input[0]?.content ?? '');
  const result = body.input.find((i) => i.type === 'function_call_output');
  const usage = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
  const base = { id: `resp_${request.receivedAt}${Math.random().toString(16).slice(2)}`, object: 'response', created_at: 1, status: 'completed', model: body.model, usage };
  const say = (text: string) => [{ type: 'message', id: `msg_${Math.random().toString(16).slice(2)}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }];
  const call = (n: number) => ({ type: 'function_call', id: `fc_${n}`, call_id: `call_${request.receivedAt}_${n}`, name: 'math-add', arguments: `{"a":2,"b":${40 + n - 1}}`, status: 'completed' });
  const output = body.tool_choice === 'none' ? say('gave up')
    : asked.includes('loop') ? [call(1)]
      : result ? say(`The sum is ${result.output}`)
        : body.tools?.some((t) => t.name === 'math-add') ? (asked.includes('twice') ? [call(1), call(2)] : [call(1)])
          : say('no tools');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, output }));
}
export let stack: TestStack;
const clients: Client[] = [];

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll). */
export function useMcpStack(): void {
beforeAll(async () => {
  llm = await startFakeUpstream({ default: { kind: 'handler', handle: responsesModel } });
  personal = await startFakeMcpServer({ name: 'personal', bearer: 'users-own-token-0008' });
  [math, docs, legacy] = await Promise.all([
    startFakeMcpServer({ name: 'math', bearer: MATH_TOKEN }), startFakeMcpServer({ name: 'docs', json: true }), startFakeMcpServer({ name: 'legacy', sse: true, bearer: 'legacy-token-0005' }),
  ]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt}
  - model_name: gpt-resp
    litellm_params: {model: openai/gpt-4o, api_base: "${llm.url}/v1", api_key: sk-llm-0006}
mcp_servers:
  math:
    url: ${math.url}
    auth_type: bearer_token
    auth_value: os.environ/MATH_TOKEN
    timeout: 2
    mcp_info:
      mcp_server_cost_info: {default_cost_per_query: 0.01, tool_name_to_cost_per_query: {add: 0.002}}
  docs:
    url: ${docs.url}
    disallowed_tools: [admin_only]
    allow_all_keys: true
    timeout: 1
  notes:
    url: ${docs.url}
    allowed_tools: [add]
    access_groups: [eng]
    mcp_info:
      mcp_server_cost_info: {tool_name_to_cost_per_query: {add: 0.5}}
  legacy:
    url: ${legacy.url}
    transport: sse
    auth_type: bearer_token
    auth_value: legacy-token-0005
  personal:
    url: ${personal.url}
    allow_all_keys: true
general_settings:
  store_model_in_db: true
`,
    env: { MATH_TOKEN, LITELLM_SALT_KEY: 'mcp-test-salt-0123456789' },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all([stack?.stop(), math?.close(), docs?.close(), legacy?.close(), llm?.close(), personal?.close()]);
});
}

/** The official client on a path of the gateway, its key in LiteLLM's `x-litellm-api-key: Bearer <key>`. */
export async function connect(key: string, path = '/mcp', headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}${path}`), {
    requestInit: { headers: { 'x-litellm-api-key': `Bearer ${key}`, ...headers } },
  }));
  clients.push(client);
  return client;
}

export const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
export const text = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as { type: string; text: string }[])[0]?.text;

export async function generateKey(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/key/generate`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { key: string }).key;
}

/** One JSON-RPC message by hand; `key` '' sends none. */
export function rpc(path: string, body: unknown, key = TEST_MASTER_KEY, method = 'POST') {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { 'x-litellm-api-key': `Bearer ${key}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: method === 'POST' ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
  });
}
