import { describe, expect, it } from 'vitest';
import { mcpServersFor } from './access.ts';
import type { McpServer } from './schema.ts';

const server = (url: string, extra: Partial<McpServer> = {}): McpServer => ({ url, transport: 'http', ...extra });
const headers = (given: Record<string, string>) => {
  const map = new Map(Object.entries(given).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => map.get(name.toLowerCase()) ?? null, forEach: (each: (value: string, name: string) => void) => map.forEach(each) };
};
const master = { kind: 'master' as const, token: 'm' };

describe("a user's own MCP credential (x-mcp-<server>-authorization)", () => {
  it("replaces the server's configured credential (auth_value and auth-like static headers), for that server only", () => {
    const servers = {
      github: server('https://a.example/mcp', { auth_type: 'bearer_token', auth_value: 'shared', static_headers: { 'X-API-Key': 'cfg', 'X-Team': 't' } }),
      git: server('https://b.example/mcp', { auth_type: 'bearer_token', auth_value: 'other' }),
    };
    const granted = mcpServersFor(master, servers, headers({ 'x-mcp-github-authorization': 'Bearer mine', 'x-mcp-github-x-trace': 'ignored' }));
    expect(granted.get('github')).toMatchObject({ auth_type: 'none', auth_value: undefined, static_headers: { 'X-Team': 't', authorization: 'Bearer mine' } });
    expect(granted.get('git')).toBe(servers.git);
  });

  it('goes nowhere when its name fits two servers (names differing in case)', () => {
    const servers = { github: server('https://a.example/mcp'), GitHub: server('https://b.example/mcp') };
    const granted = mcpServersFor(master, servers, headers({ 'x-mcp-github-authorization': 'Bearer mine' }));
    expect(granted.get('github')).toBe(servers.github);
    expect(granted.get('GitHub')).toBe(servers.GitHub);
  });
});
