// LiteLLM's MCP gateway (/mcp) with the master key: tools, prompts, resources, both transports, sessions,
// timeouts, billing, and the refusals of bad requests (the stack: support/mcp-stack.ts).
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { MATH_TOKEN, connect, docs, generateKey, legacy, math, personal, rpc, stack, text, toolNames, useMcpStack } from './support/mcp-stack.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

useMcpStack();

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
