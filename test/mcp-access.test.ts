// Which MCP servers and tools a key reaches: grants of keys and teams, access groups, narrowing by path and
// header, the /{server}/mcp form, budgets (the stack: support/mcp-stack.ts).
import { describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { connect, docs, generateKey, math, rpc, stack, text, toolNames, useMcpStack } from './support/mcp-stack.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

useMcpStack();

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
