import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from './fakes/upstream.ts';
import { type FakeMcpServer, startFakeMcpServer } from './fakes/mcp-server.ts';
import { eventually, seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's MCP gateway: the official MCP SDK's client against /mcp, MCP servers built with the SDK's
// Streamable HTTP server on loopback (one answering with SSE streams, one with JSON), Postgres for spend.

const MATH_TOKEN = 'math-server-token-0001';

let math: FakeMcpServer;
let docs: FakeMcpServer;
let legacy: FakeMcpServer;
let llm: FakeUpstream;
let personal: FakeMcpServer;

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
let stack: TestStack;
const clients: Client[] = [];

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

/** The official client on a path of the gateway, its key in LiteLLM's `x-litellm-api-key: Bearer <key>`. */
async function connect(key: string, path = '/mcp', headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}${path}`), {
    requestInit: { headers: { 'x-litellm-api-key': `Bearer ${key}`, ...headers } },
  }));
  clients.push(client);
  return client;
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
const text = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as { type: string; text: string }[])[0]?.text;

async function generateKey(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/key/generate`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { key: string }).key;
}

/** One JSON-RPC message by hand; `key` '' sends none. */
function rpc(path: string, body: unknown, key = TEST_MASTER_KEY, method = 'POST') {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { 'x-litellm-api-key': `Bearer ${key}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: method === 'POST' ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
  });
}

describe('/mcp with the master key', () => {
  it("lists every server's tools as <server>-<tool>, without the disallowed ones; calls them with the server's own credential", async () => {
    const client = await connect(TEST_MASTER_KEY);
    expect(client.getServerVersion()?.name).toBe('litellm-mcp-server');
    expect(await toolNames(client)).toEqual([
      'docs-add', 'docs-fail', 'docs-slow', 'legacy-add', 'legacy-admin_only', 'legacy-fail', 'legacy-slow', 'math-add', 'math-admin_only', 'math-fail', 'math-slow', 'notes-add',
    ]);
    const listed = (await client.listTools()).tools.find((t) => t.name === 'math-add');
    expect(listed?.description).toBe('Adds two numbers');
    expect(listed?.inputSchema.required).toEqual(['a', 'b']);

    const before = math.requests.length;
    const result = await client.callTool({ name: 'math-add', arguments: { a: 2, b: 3 } });
    expect(text(result)).toBe('5');
    const sent = math.requests.slice(before);
    expect(sent.map((r) => (r.body as { method?: string }).method)).toEqual(['tools/call']);
    expect(sent[0]?.headers.authorization).toBe(`Bearer ${MATH_TOKEN}`);
    expect(JSON.stringify(math.requests)).not.toContain(TEST_MASTER_KEY);
    expect((sent[0]?.body as { params: unknown }).params).toEqual({ name: 'add', arguments: { a: 2, b: 3 } });

    // A failing tool is the server's answer (isError), passed back as it is.
    const failed = await client.callTool({ name: 'docs-fail', arguments: {} });
    expect(failed.isError).toBe(true);
    expect(text(failed)).toContain('the tool broke');
    // A disallowed tool is not offered, and cannot be called.
    const before2 = docs.requests.length;
    const disallowed = await rpc('/mcp', { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'docs-admin_only', arguments: {} } });
    expect(await disallowed.json()).toEqual({ jsonrpc: '2.0', id: 8, error: { code: -32602, message: 'Unknown tool: docs-admin_only' } });
    expect(docs.requests.length).toBe(before2);
  });

  it('bills each tool call at its price in a spend-log row (call_type call_mcp_tool), a failing tool as the answer it is', async () => {
    const key = await generateKey({ object_permission: { mcp_servers: ['math'] } });
    const client = await connect(key);
    await client.callTool({ name: 'math-add', arguments: { a: 1, b: 1 } });
    await client.callTool({ name: 'math-fail', arguments: {} });
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT model, model_group, spend, call_type, status, api_base FROM "LiteLLM_SpendLogs" WHERE call_type = 'call_mcp_tool' AND api_key = $1 ORDER BY "startTime"`, [sha256(key)]);
      return found.length >= 2 ? found : undefined;
    });
    // add at its own price; fail (the server's isError answer) at the server's default.
    expect(rows.map((r) => [r.model, r.model_group, r.spend, r.status])).toEqual([['math-add', 'math', 0.002, 'success'], ['math-fail', 'math', 0.01, 'success']]);
    expect(rows[0]?.api_base).toBe(new URL(math.url).origin);
    const spent = await eventually(async () => {
      const [row] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Number(row?.spend) > 0.011 ? Number(row?.spend) : undefined;
    });
    expect(spent).toBeCloseTo(0.012, 6);
  });

  it("never prices a tool by a name off Object.prototype: the key's budget stays a number", async () => {
    const key = await generateKey({ object_permission: { mcp_servers: ['notes'] }, max_budget: 10 });
    for (const name of ['notes-constructor', 'notes-toString', 'notes-__proto__']) {
      const res = await rpc('/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }, key);
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: `Unknown tool: ${name}` } });
    }
    const onlyDocs = await connect(TEST_MASTER_KEY, '/mcp/docs');
    // A tool the server does not list is not called at all.
    const before = docs.requests.length;
    await expect(onlyDocs.callTool({ name: 'constructor', arguments: {} })).rejects.toThrow(/Unknown tool: constructor/);
    expect(docs.requests.slice(before).filter((r) => (r.body as { method?: string }).method === 'tools/call')).toEqual([]);
    const billed = await connect(key);
    expect(text(await billed.callTool({ name: 'notes-add', arguments: { a: 1, b: 2 } }))).toBe('3');
    const spend = await eventually(async () => {
      const [row] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Number(row?.spend) > 0 ? row?.spend : undefined;
    });
    expect(spend).toBe(0.5);
    expect((await rpc('/mcp/constructor', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(404);
  });

  it("lists and reads the servers' prompts (as <server>-<prompt>) and resources (by their URIs)", async () => {
    const client = await connect(TEST_MASTER_KEY, '/mcp', { 'x-mcp-servers': 'math,docs' });
    expect((await client.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(['docs-greet', 'math-greet']);
    const prompt = await client.getPrompt({ name: 'math-greet', arguments: { who: 'Ada' } });
    expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Say hello to Ada from math' });
    await expect(client.getPrompt({ name: 'math-nothing', arguments: {} })).rejects.toThrow(/Unknown prompt: math-nothing/);
    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual(['memo://docs/readme', 'memo://math/readme']);
    const read = await client.readResource({ uri: 'memo://docs/readme' });
    expect(read.contents).toEqual([{ uri: 'memo://docs/readme', mimeType: 'text/plain', text: 'docs readme' }]);
    await expect(client.readResource({ uri: 'memo://nowhere' })).rejects.toThrow(/Unknown resource: memo:\/\/nowhere/);
  });

  it("sends a client's own credential for a server (x-mcp-<server>-authorization) in place of the configured one", async () => {
    // Without it the server refuses the gateway: its tools are left out.
    expect((await toolNames(await connect(TEST_MASTER_KEY, '/mcp/personal'))).length).toBe(0);
    const client = await connect(TEST_MASTER_KEY, '/mcp/personal', { 'x-mcp-personal-authorization': 'Bearer users-own-token-0008', 'x-mcp-personal-x-trace': 't1' });
    expect(await toolNames(client)).toEqual(['personal-add', 'personal-admin_only', 'personal-fail', 'personal-slow']);
    const before = personal.requests.length;
    expect(text(await client.callTool({ name: 'personal-add', arguments: { a: 1, b: 2 } }))).toBe('3');
    const call = personal.requests.slice(before).find((r) => (r.body as { method?: string }).method === 'tools/call');
    // Only the credential is sent on; other x-mcp-<server>-* headers are not.
    expect([call?.headers.authorization, call?.headers['x-trace']]).toEqual(['Bearer users-own-token-0008', undefined]);
    // Another key's (or no) credential never rides on a session opened with this one.
    expect((await toolNames(await connect(TEST_MASTER_KEY, '/mcp/personal'))).length).toBe(0);
  });

  it("calls a server of MCP's earlier HTTP+SSE transport (transport: sse) with its credential", async () => {
    const client = await connect(TEST_MASTER_KEY);
    const before = legacy.requests.length;
    expect(text(await client.callTool({ name: 'legacy-add', arguments: { a: 6, b: 7 } }))).toBe('13');
    const sent = legacy.requests.slice(before);
    expect(sent.map((r) => (r.body as { method?: string } | undefined)?.method ?? 'GET')).toEqual(['GET', 'initialize', 'notifications/initialized', 'tools/call']);
    expect(sent.every((r) => r.headers.authorization === 'Bearer legacy-token-0005')).toBe(true);
    const failed = await client.callTool({ name: 'legacy-fail', arguments: {} });
    expect(failed.isError).toBe(true);
    // One event stream an operation, closed once it is answered.
    await eventually(async () => (legacy.openStreams() === 0 ? true : undefined), 5000);
  });

  it("opens a new session when the server has forgotten the gateway's, and times out a tool at the server's timeout", async () => {
    const client = await connect(TEST_MASTER_KEY);
    math.forgetSessions();
    const before = math.requests.length;
    expect(text(await client.callTool({ name: 'math-add', arguments: { a: 40, b: 2 } }))).toBe('42');
    expect(math.requests.slice(before).map((r) => (r.body as { method?: string }).method)).toEqual(['tools/call', 'initialize', 'notifications/initialized', 'tools/call']);

    // docs answers JSON (nothing until the tool is done), math an SSE stream opened at once: both cut at their timeout.
    const started = Date.now();
    await Promise.all([
      expect(client.callTool({ name: 'docs-slow', arguments: { ms: 5000 } })).rejects.toThrow(/did not answer within 1 s/),
      expect(client.callTool({ name: 'math-slow', arguments: { ms: 5000 } })).rejects.toThrow(/did not answer within 2 s/),
    ]);
    expect(Date.now() - started).toBeLessThan(4500);
  });
});

describe('which servers a key reaches', () => {
  it("a virtual key reaches the servers its object_permission names and allow_all_keys ones; another key's narrower", async () => {
    const mathKey = await generateKey({ object_permission: { mcp_servers: ['math'] } });
    const plainKey = await generateKey({});
    const groupKey = await generateKey({ object_permission: { mcp_access_groups: ['eng'] } });
    expect(await toolNames(await connect(mathKey))).toEqual(['docs-add', 'docs-fail', 'docs-slow', 'math-add', 'math-admin_only', 'math-fail', 'math-slow']);
    // mcp_tool_permissions: only the tools it names on that server, listed and callable.
    const toolKey = await generateKey({ object_permission: { mcp_servers: ['math'], mcp_tool_permissions: { math: ['add'] } } });
    expect((await toolNames(await connect(toolKey))).filter((t) => t.startsWith('math-'))).toEqual(['math-add']);
    const limited = await rpc('/mcp', { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'math-slow', arguments: { ms: 1 } } }, toolKey);
    expect(await limited.json()).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32602, message: 'Unknown tool: math-slow' } });
    // notes by its access group, and only its allowed tool.
    expect(await toolNames(await connect(groupKey))).toEqual(['docs-add', 'docs-fail', 'docs-slow', 'notes-add']);
    const notAllowed = await rpc('/mcp', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'notes-slow', arguments: { ms: 1 } } }, groupKey);
    expect(await notAllowed.json()).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32602, message: 'Unknown tool: notes-slow' } });
    const plain = await connect(plainKey);
    expect(await toolNames(plain)).toEqual(['docs-add', 'docs-fail', 'docs-slow']);
    const call = await rpc('/mcp', { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'math-add', arguments: { a: 1, b: 2 } } }, plainKey);
    expect(await call.json()).toEqual({ jsonrpc: '2.0', id: 9, error: { code: -32602, message: 'Unknown tool: math-add' } });
    // A server the key may not use answers as one that does not exist (a key cannot learn the others' names).
    for (const res of [await rpc('/mcp/math', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, plainKey), await rpc('/mcp/nothing', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, plainKey)]) {
      expect(res.status).toBe(404);
    }
    const viaHeader = await fetch(`${stack.url}/mcp`, { method: 'POST', headers: { 'x-litellm-api-key': plainKey, 'x-mcp-servers': 'math', 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect([viaHeader.status, ((await viaHeader.json()) as { error: { message: string } }).error.message]).toEqual([404, 'MCP server math not found']);
  });

  it("a team's grant is its keys' (a key's own grant within it), and only proxy admins grant", async () => {
    const team = await fetch(`${stack.url}/team/new`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team_id: 'mcp-team', admins: ['tadmin'], object_permission: { mcp_servers: ['math'] } }),
    });
    expect(team.status).toBe(200);
    await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('tadmin', 'internal_user')`);
    const inherits = await generateKey({ team_id: 'mcp-team' });
    const bounded = await generateKey({ team_id: 'mcp-team', object_permission: { mcp_servers: ['math', 'notes'] } });
    expect((await toolNames(await connect(inherits))).filter((t) => !t.startsWith('docs-'))).toEqual(['math-add', 'math-admin_only', 'math-fail', 'math-slow']);
    expect((await toolNames(await connect(bounded))).filter((t) => !t.startsWith('docs-'))).toEqual(['math-add', 'math-admin_only', 'math-fail', 'math-slow']);

    const teamAdmin = await seedKey(stack.db.url, { userId: 'tadmin', teamId: 'mcp-team' });
    const asTeamAdmin = (body: unknown) => fetch(`${stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${teamAdmin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{ team_id: 'mcp-team', object_permission: { mcp_servers: ['notes'] } }, { team_id: 'mcp-team', metadata: { object_permission: { mcp_servers: ['notes'] } } }]) {
      const res = await asTeamAdmin(body);
      expect([res.status, ((await res.json()) as { error: { message: string } }).error.message]).toEqual([403, 'Only proxy admins can set object_permission']);
    }
    expect((await asTeamAdmin({ team_id: 'mcp-team' })).status).toBe(200);
    // Clearing a grant is granting: refused; a metadata the team admin writes keeps the team's grant.
    const asTeamAdminOn = (path: string, body: unknown) => fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${teamAdmin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await asTeamAdminOn('/team/update', { team_id: 'mcp-team', object_permission: null })).status).toBe(403);
    expect((await asTeamAdminOn('/team/update', { team_id: 'mcp-team', metadata: { object_permission: null } })).status).toBe(403);
    const replaced = await asTeamAdminOn('/team/update', { team_id: 'mcp-team', metadata: { cost_center: 'r&d' } });
    expect(replaced.status).toBe(200);
    const [row] = await query(stack.db.url, `SELECT metadata FROM "LiteLLM_TeamTable" WHERE team_id = 'mcp-team'`);
    expect(row?.metadata).toEqual({ cost_center: 'r&d', object_permission: { mcp_servers: ['math'] } });
  });

  it('serves /{server}/mcp only to keys that may use the server: anything else is not the MCP gateway', async () => {
    const plainKey = await generateKey({});
    for (const [path, key] of [['/math/mcp', plainKey], ['/math/mcp', ''], ['/nothing/mcp', plainKey]] as const) {
      const res = await rpc(path, { jsonrpc: '2.0', id: 1, method: 'ping' }, key);
      expect([res.status, ((await res.json()) as { error: { message: string } }).error.message]).toEqual([404, `Route not found: POST ${path}`]);
    }
    expect(await (await rpc('/docs/mcp', { jsonrpc: '2.0', id: 1, method: 'ping' }, plainKey)).json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });

  it('the path and x-mcp-servers narrow the tools; with one server in scope its tools answer to their own names too', async () => {
    expect(await toolNames(await connect(TEST_MASTER_KEY, '/mcp/docs'))).toEqual(['docs-add', 'docs-fail', 'docs-slow']);
    // LiteLLM's other form of the same; a path naming no configured server is not the MCP gateway's.
    expect(await toolNames(await connect(TEST_MASTER_KEY, '/docs/mcp'))).toEqual(['docs-add', 'docs-fail', 'docs-slow']);
    expect(await (await rpc('/v2/mcp', { jsonrpc: '2.0', id: 1, method: 'ping' })).json()).toMatchObject({ error: { message: 'Route not found: POST /v2/mcp' } });
    const onlyMath = await connect(TEST_MASTER_KEY, '/mcp', { 'x-mcp-servers': 'math' });
    expect(await toolNames(onlyMath)).toEqual(['math-add', 'math-admin_only', 'math-fail', 'math-slow']);
    expect(text(await onlyMath.callTool({ name: 'add', arguments: { a: 3, b: 4 } }))).toBe('7');
    expect((await rpc('/mcp/nowhere', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(404);
  });

  it('a key over its budget is refused a paid tool before the server is called', async () => {
    const broke = await generateKey({ object_permission: { mcp_servers: ['math'] }, max_budget: 0 });
    const before = math.requests.length;
    const res = await rpc('/mcp', { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'math-add', arguments: { a: 1, b: 1 } } }, broke);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: number; error: { code: number; message: string; data: { type: string } } };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32000);
    expect(body.error.message).toMatch(/Budget has been exceeded/);
    expect(body.error.data.type).toBe('budget_exceeded');
    expect(math.requests.slice(before).filter((r) => (r.body as { method?: string }).method === 'tools/call')).toEqual([]);
  });
});

describe("LiteLLM's MCP REST API", () => {
  it('lists the servers a key may use (GET /v1/mcp/server), their url only to the master key', async () => {
    const servers = (await (await fetch(`${stack.url}/v1/mcp/server`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).json()) as { server_id: string; url?: string }[];
    expect(servers.map((s) => s.server_id)).toEqual(['math', 'docs', 'notes', 'legacy', 'personal']);
    expect(servers[0]).toMatchObject({ server_name: 'math', transport: 'http', auth_type: 'bearer_token', url: math.url });
    expect(JSON.stringify(servers)).not.toContain(MATH_TOKEN);
    const plainKey = await generateKey({});
    const forKey = (await (await fetch(`${stack.url}/v1/mcp/server`, { headers: { authorization: `Bearer ${plainKey}` } })).json()) as { server_id: string; url?: string }[];
    expect(forKey.map((s) => [s.server_id, s.url])).toEqual([['docs', undefined], ['personal', undefined]]);
    expect((await fetch(`${stack.url}/v1/mcp/server/math`, { headers: { authorization: `Bearer ${plainKey}` } })).status).toBe(404);
  });

  const rest = async (path: string, body?: unknown, key = TEST_MASTER_KEY) => {
    const res = await fetch(`${stack.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  it('lists tools by their own names with their server, and calls one by server_id or by its prefixed name', async () => {
    const all = await rest('/mcp-rest/tools/list');
    expect(all.json.error).toBeNull();
    expect(all.json.tools.map((t: { name: string; mcp_info: { server_name: string } }) => `${t.mcp_info.server_name}:${t.name}`).sort())
      .toEqual(['docs:add', 'docs:fail', 'docs:slow', 'legacy:add', 'legacy:admin_only', 'legacy:fail', 'legacy:slow', 'math:add', 'math:admin_only', 'math:fail', 'math:slow', 'notes:add']);
    expect((await rest('/mcp-rest/tools/list?server_id=docs')).json.tools.map((t: { name: string }) => t.name).sort()).toEqual(['add', 'fail', 'slow']);
    expect((await rest('/mcp-rest/tools/list?server_id=nowhere')).json).toEqual({ tools: [], error: 'server_not_found', message: 'Server with id nowhere not found' });

    const byServer = await rest('/mcp-rest/tools/call', { server_id: 'math', name: 'add', arguments: { a: 20, b: 1 } });
    expect([byServer.status, byServer.json.content]).toEqual([200, [{ type: 'text', text: '21' }]]);
    expect((await rest('/mcp-rest/tools/call', { name: 'docs-add', arguments: { a: 1, b: 1 } })).json.content).toEqual([{ type: 'text', text: '2' }]);
    const unknown = await rest('/mcp-rest/tools/call', { name: 'nothing', arguments: {} });
    expect([unknown.status, unknown.json.error.message]).toEqual([404, 'Unknown tool: nothing']);
    // A key sees only its servers here too.
    const plainKey = await generateKey({});
    expect((await rest('/mcp-rest/tools/list?server_id=math', undefined, plainKey)).json.error).toBe('server_not_found');
    expect((await rest('/mcp-rest/tools/call', { server_id: 'math', name: 'add', arguments: { a: 1, b: 1 } }, plainKey)).status).toBe(404);
  });
});

describe("MCP tools in the Responses API (server_url: litellm_proxy)", () => {
  const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  const mcpTool = (serverUrl: string, extra: Record<string, unknown> = {}) => ({ type: 'mcp' as const, server_label: 'litellm', server_url: serverUrl, require_approval: 'never' as const, ...extra });

  it('offers the tools to the model, calls the one it asks for, and answers with its next turn', async () => {
    llm.reset();
    const response = await openai().responses.create({ model: 'gpt-resp', input: 'add 2 and 40', tools: [mcpTool('litellm_proxy/mcp/math')] });
    expect(response.output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_call', 'message']);
    expect(response.output[1]).toMatchObject({ type: 'mcp_call', server_label: 'litellm', name: 'add', arguments: '{"a":2,"b":40}', output: '42', error: null, status: 'completed' });
    expect(response.output_text).toBe('The sum is 42');
    expect(response.usage).toMatchObject({ input_tokens: 20, output_tokens: 10, total_tokens: 30 });
    // Two turns: the first offered math's tools as functions, the second carried the call and its output.
    expect(llm.requests).toHaveLength(2);
    const [first, second] = llm.requests.map((r) => r.body as { tools: { type: string; name: string; parameters?: unknown }[]; input: { type: string; output?: string }[] });
    expect(first!.tools.map((t) => t.name).sort()).toEqual(['math-add', 'math-admin_only', 'math-fail', 'math-slow']);
    expect(first!.tools.find((t) => t.name === 'math-add')?.parameters).toMatchObject({ type: 'object', required: ['a', 'b'] });
    expect(second!.input.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output']);
    expect(second!.input[2]?.output).toBe('42');
  });

  it('streams the answer as Responses API events when asked, and honours allowed_tools', async () => {
    llm.reset();
    const stream = await openai().responses.create({ model: 'gpt-resp', input: 'add', stream: true, tools: [mcpTool('litellm_proxy', { allowed_tools: ['add'] })] });
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(text).toBe('The sum is 42');
    // One listing a server (personal's, which would not list without the user's token, says so); the tools offered are add's.
    expect(completed?.output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_list_tools', 'mcp_list_tools', 'mcp_list_tools', 'mcp_list_tools', 'mcp_call', 'message']);
    expect(completed?.output.find((o) => o.type === 'mcp_list_tools' && o.server_label === 'personal')).toMatchObject({ tools: [], error: 'MCP server personal did not list its tools' });
    const offered = (llm.requests[0]?.body as { tools: { name: string }[] }).tools.map((t) => t.name).sort();
    expect(offered).toEqual(['docs-add', 'legacy-add', 'math-add', 'notes-add']);
  });

  it('bounds the loop: max_tool_calls leaves the rest unrun and the model answers; a model that keeps calling is stopped at 10 turns', async () => {
    llm.reset();
    const key = await generateKey({ object_permission: { mcp_servers: ['math'] } });
    const asKey = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data: capped, response: raw } = await asKey.responses.create({ model: 'gpt-resp', input: 'add twice', max_tool_calls: 1, tools: [mcpTool('litellm_proxy/mcp/math')] }).withResponse();
    const mcpCalls = capped.output.filter((o) => o.type === 'mcp_call');
    expect(mcpCalls.map((m) => [m.status, m.output])).toEqual([['completed', '42'], ['incomplete', null]]);
    expect(capped.output_text).toBe('gave up');
    // Both calls got an output in the next turn (the unrun one saying so), which was told to answer.
    const second = llm.requests[1]?.body as { input: { type: string; output?: string }[]; tool_choice?: string };
    expect(second.input.filter((i) => i.type === 'function_call_output').map((i) => i.output)).toEqual(['42', "Not run: the request's max_tool_calls was reached."]);
    expect(second.tool_choice).toBe('none');
    // The cost header is what the rows of this request add up to: two turns and one tool call.
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, `SELECT call_type, spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [sha256(key)]);
      return found.length >= 3 ? found : undefined;
    });
    expect(rows.map((r) => r.call_type).sort()).toEqual(['aresponses', 'aresponses', 'call_mcp_tool']);
    const total = rows.reduce((sum, r) => sum + Number(r.spend), 0);
    expect(Number(raw.headers.get('x-litellm-response-cost'))).toBeCloseTo(total, 10);

    llm.reset();
    const looped = await openai().responses.create({ model: 'gpt-resp', input: 'loop', tools: [mcpTool('litellm_proxy/mcp/math')] });
    expect(llm.requests).toHaveLength(10);
    expect(looped.output.filter((o) => o.type === 'mcp_call')).toHaveLength(9);
    expect(looped.output_text).toBe('gave up');
  });

  it('refuses approvals and servers the key may not use, before any model is called', async () => {
    llm.reset();
    const approval = await openai().responses.create({ model: 'gpt-resp', input: 'x', tools: [mcpTool('litellm_proxy', { require_approval: 'always' })] }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.APIError>;
    expect([approval.status, approval.message]).toEqual([400, expect.stringContaining('require_approval must be "never"')]);
    const plainKey = await generateKey({});
    const asKey = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: plainKey, maxRetries: 0 });
    const denied = await asKey.responses.create({ model: 'gpt-resp', input: 'x', tools: [mcpTool('litellm_proxy/mcp/math')] }).catch((e: unknown) => e) as InstanceType<typeof OpenAI.APIError>;
    expect([denied.status, denied.message]).toEqual([404, expect.stringContaining('MCP server math not found')]);
    expect(llm.requests).toHaveLength(0);
  });
});

describe('MCP servers stored through /v1/mcp/server (store_model_in_db)', () => {
  const admin = async (method: string, path: string, body?: unknown, key = TEST_MASTER_KEY) => {
    const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };

  it('adds a server whose credential is sealed, serves its tools within seconds, follows changes and deletes', async () => {
    const created = await admin('POST', '/v1/mcp/server', {
      server_name: 'stored', url: math.url, auth_type: 'bearer_token', credentials: { auth_value: MATH_TOKEN }, static_headers: { 'X-Team': 'a' },
      mcp_info: { mcp_server_cost_info: { default_cost_per_query: 0.25 } }, mcp_access_groups: ['ops'],
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ server_name: 'stored', url: math.url, transport: 'http', auth_type: 'bearer_token', static_headers: { 'X-Team': 'a' }, mcp_access_groups: ['ops'] });
    expect(JSON.stringify(created.json)).not.toContain(MATH_TOKEN);
    const [row] = await query(stack.db.url, 'SELECT credentials FROM "LiteLLM_MCPServerTable" WHERE server_id = $1', [created.json.server_id]);
    expect((row?.credentials as { auth_value: string }).auth_value).toMatch(/^tg:v1:/);

    const client = await connect(TEST_MASTER_KEY);
    await eventually(async () => ((await toolNames(client)).includes('stored-add') ? true : undefined));
    const before = math.requests.length;
    expect(text(await client.callTool({ name: 'stored-add', arguments: { a: 5, b: 5 } }))).toBe('10');
    const sent = math.requests.slice(before).find((r) => (r.body as { method?: string }).method === 'tools/call');
    expect([sent?.headers.authorization, sent?.headers['x-team']]).toEqual([`Bearer ${MATH_TOKEN}`, 'a']);
    // A grant may name a stored server by its id; GET /v1/mcp/server lists it by id.
    const byId = await generateKey({ object_permission: { mcp_servers: [created.json.server_id] } });
    expect((await toolNames(await connect(byId))).filter((t) => t.startsWith('stored-'))).toEqual(['stored-add', 'stored-admin_only', 'stored-fail', 'stored-slow']);
    const listed = await admin('GET', '/v1/mcp/server', undefined, byId);
    expect(listed.json.map((s: { server_id: string }) => s.server_id)).toEqual(['docs', 'personal', created.json.server_id]);

    // Moved to the docs server (no credential there): followed within seconds.
    const moved = await admin('PUT', '/v1/mcp/server', { server_id: created.json.server_id, url: docs.url, credentials: { auth_value: null }, auth_type: null });
    expect(moved.status).toBe(200);
    await eventually(async () => {
      const beforeDocs = docs.requests.length;
      await client.callTool({ name: 'stored-add', arguments: { a: 1, b: 1 } }).catch(() => undefined);
      return docs.requests.slice(beforeDocs).some((r) => (r.body as { method?: string }).method === 'tools/call') ? true : undefined;
    });
    expect((await admin('DELETE', `/v1/mcp/server/${created.json.server_id}`)).status).toBe(202);
    await eventually(async () => (!(await toolNames(await connect(TEST_MASTER_KEY))).includes('stored-add') ? true : undefined));
    expect((await admin('DELETE', `/v1/mcp/server/${created.json.server_id}`)).status).toBe(404);
  });

  it('refuses bad servers with a clear 4xx and writes nothing', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ server_name: 'bad-name', url: math.url }, 422, /server_name: a server name is/],
      [{ server_name: 'nourl' }, 422, /url: is required/],
      [{ server_name: 'badurl', url: 'not a url' }, 422, /url: expected an http\(s\) URL/],
      [{ server_name: 'math', url: math.url }, 400, /defined in config.yaml's mcp_servers/],
      [{ server_name: 'leaky', url: math.url, description: 'os.environ/LITELLM_MASTER_KEY' }, 422, /description: os.environ\/ references are read only in auth_value and static_headers/],
      [{ server_name: 'leaky2', url: math.url, auth_type: 'bearer_token', auth_value: 'os.environ/LITELLM_MASTER_KEY' }, 422, /os.environ\/LITELLM_MASTER_KEY is one of the gateway's own secrets/],
      [{ server_name: 'unset', url: math.url, auth_type: 'bearer_token', auth_value: 'os.environ/NOT_SET_ANYWHERE' }, 422, /os.environ\/NOT_SET_ANYWHERE is not set/],
      [{ server_id: 'github', server_name: 'idish', url: math.url }, 422, /server_id: expected a UUID/],
      [{ server_name: 'MATH', url: math.url }, 400, /MCP server math is defined in config.yaml's mcp_servers/],
    ];
    for (const [body, status, message] of cases) {
      const res = await admin('POST', '/v1/mcp/server', body);
      expect(res.status).toBe(status);
      expect(res.json.error.message).toMatch(message);
    }
    expect(await query(stack.db.url, `SELECT 1 FROM "LiteLLM_MCPServerTable" WHERE server_name IN ('bad-name', 'nourl', 'badurl', 'math', 'leaky', 'leaky2', 'unset', 'idish', 'MATH')`)).toEqual([]);
    const twice = await admin('POST', '/v1/mcp/server', { server_name: 'twice', url: math.url, static_headers: { Authorization: 'Bearer hdr-secret-0007', 'X-Plain': 'p' } });
    expect(twice.json.static_headers).toEqual({ 'X-Plain': 'p' });
    const headersOf = async () => (await query(stack.db.url, `SELECT static_headers FROM "LiteLLM_MCPServerTable" WHERE server_name = 'twice'`))[0]?.static_headers as Record<string, string>;
    expect((await headersOf()).Authorization).toMatch(/^tg:v1:/);
    expect((await admin('POST', '/v1/mcp/server', { server_name: 'twice', url: docs.url })).status).toBe(400);
    const caseTwin = await admin('POST', '/v1/mcp/server', { server_name: 'Twice', url: docs.url });
    expect([caseTwin.status, caseTwin.json.error.message]).toEqual([400, 'An MCP server named twice already exists (names differ only in case)']);
    // A header named in another case replaces (null: removes) the stored one.
    await admin('PUT', '/v1/mcp/server', { server_id: twice.json.server_id, static_headers: { authorization: null, 'x-plain': 'q' } });
    expect(await headersOf()).toEqual({ 'x-plain': 'q' });
    expect(JSON.stringify(await query(stack.db.url, `SELECT * FROM "LiteLLM_AuditLog" WHERE table_name = 'LiteLLM_MCPServerTable'`))).not.toContain('hdr-secret');
    expect((await admin('DELETE', `/v1/mcp/server/${twice.json.server_id}`)).status).toBe(202);
    const key = await generateKey({});
    expect((await admin('POST', '/v1/mcp/server', { server_name: 'mine', url: math.url }, key)).status).toBe(403);
  });
});

describe('bad requests', () => {
  it('answers JSON-RPC errors for bad messages, 401 without a key, 405 for GET', async () => {
    const parse = await rpc('/mcp', '{not json');
    expect(parse.status).toBe(400);
    expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const unknown = await rpc('/mcp', { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: {} });
    expect(await unknown.json()).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found: resources/subscribe' } });
    const noName = await rpc('/mcp', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: {} });
    expect(((await noName.json()) as { error: { code: number } }).error.code).toBe(-32602);
    expect((await rpc('/mcp', [{ jsonrpc: '2.0', id: 4, method: 'ping' }])).status).toBe(400);
    expect((await rpc('/mcp', { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    const noKey = await rpc('/mcp', { jsonrpc: '2.0', id: 5, method: 'tools/list' }, '');
    expect(noKey.status).toBe(401);
    expect((await rpc('/mcp', undefined, TEST_MASTER_KEY, 'GET')).status).toBe(405);
    expect((await rpc('/mcp/math', undefined, TEST_MASTER_KEY, 'DELETE')).status).toBe(405);
    expect(await (await rpc('/mcp/', { jsonrpc: '2.0', id: 6, method: 'ping' })).json()).toEqual({ jsonrpc: '2.0', id: 6, result: {} });
  });
});
