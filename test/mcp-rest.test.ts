// LiteLLM's MCP REST API and the servers stored through /v1/mcp/server (the stack: support/mcp-stack.ts).
import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { MATH_TOKEN, connect, docs, generateKey, legacy, math, personal, stack, text, toolNames, useMcpStack } from './support/mcp-stack.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

useMcpStack();

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
