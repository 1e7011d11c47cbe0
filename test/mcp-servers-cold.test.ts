import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// The MCP servers stored through /v1/mcp/server on an isolate whose first read of them fails (Postgres down or the
// table unreadable): config.yaml's servers are served, no request waits for a read of its own after the first one
// ended (for 2 s), and the stored servers appear on the first request after that; and a warm isolate whose last
// read failed does not keep serving its old list past 15 s (a deleted server stays deleted).

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
mcp_servers:
  notes:
    url: http://127.0.0.1:9/mcp
    allow_all_keys: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
`;

describe('stored MCP servers on a new isolate while they cannot be read', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: CONFIG, env: { LITELLM_SALT_KEY: 'mcp-cold-salt-0123456789' } });
    // The table becomes unreadable before the isolate's first read (a missing column fails the SELECT; a missing table would read as empty).
    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_MCPServerTable" RENAME COLUMN url TO url_away');
  });
  afterAll(async () => stack?.stop());

  const list = async (server = '') => {
    const res = await fetch(`${stack.url}/v1/mcp/server${server}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('serves config.yaml\'s servers without a wait per request, then the stored ones once a read lands', async () => {
    const first = await list();
    const failedBy = Date.now();
    expect(first.status).toBe(200);
    expect(first.json.map((s: { server_name: string }) => s.server_name)).toEqual(['notes']);
    // Later requests, naming a server the isolate does not know too, do not each wait for a read (they used to wait ~500 ms
    // each). Three, well within the 2 s after the failed read (after it a request waits again).
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await list(i % 2 ? '/nowhere' : '')).status).toBe(i % 2 ? 404 : 200);
    expect(Date.now() - started).toBeLessThan(1_500);

    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_MCPServerTable" RENAME COLUMN url_away TO url');
    const created = await fetch(`${stack.url}/v1/mcp/server`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server_name: 'stored', url: 'http://127.0.0.1:9/stored', allow_all_keys: true }),
    });
    expect(created.status).toBe(200);
    // 2 s after the failed read, a request waits for a read of its own again: it sees the stored server (polled: on a
    // loaded machine the read may land late, or a request inside the 2 s may have started a read that failed).
    await new Promise((r) => setTimeout(r, Math.max(0, failedBy + 2_200 - Date.now())));
    const after = await eventually(async () => {
      const res = await list();
      expect(res.status).toBe(200);
      const names = res.json.map((s: { server_name: string }) => s.server_name);
      return names.includes('stored') ? names : undefined;
    }, 8_000);
    expect(after).toEqual(['notes', 'stored']);
  });
});

describe('stored MCP servers on a warm isolate whose last read failed', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: CONFIG, env: { LITELLM_SALT_KEY: 'mcp-cold-salt-0123456789' } });
  });
  afterAll(async () => stack?.stop());

  const admin = (method: string, path: string, body?: unknown) => fetch(`${stack.url}${path}`, {
    method, headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const names = async () => {
    const res = await admin('GET', '/v1/mcp/server');
    expect(res.status).toBe(200);
    return ((await res.json()) as { server_name: string }[]).map((s) => s.server_name);
  };

  it('does not serve a deleted server from a list left old by a failed read', async () => {
    const created = await admin('POST', '/v1/mcp/server', { server_name: 'doomed', url: 'http://127.0.0.1:9/doomed', allow_all_keys: true });
    expect(created.status).toBe(200);
    const { server_id } = (await created.json()) as { server_id: string };
    expect(await names()).toEqual(['notes', 'doomed']);
    const loadedBy = Date.now();

    // The next read (started by a request 2 s on, in the background) fails; then the table is readable again and the server deleted.
    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_MCPServerTable" RENAME COLUMN url TO url_away');
    await new Promise((r) => setTimeout(r, 2_200));
    expect(await names()).toEqual(['notes', 'doomed']);
    // Time for that read to fail on a loaded machine; the list (read at 0 s) is still well short of 15 s old here (~6 s).
    await new Promise((r) => setTimeout(r, 4_000));
    await query(stack.databaseUrl, 'ALTER TABLE "LiteLLM_MCPServerTable" RENAME COLUMN url_away TO url');
    expect((await admin('DELETE', `/v1/mcp/server/${server_id}`)).status).toBe(202);

    // Idle past the 15 s a list may be used unread: the next request waits for a fresh read, without the deleted server.
    await new Promise((r) => setTimeout(r, Math.max(0, loadedBy + 16_000 - Date.now())));
    expect(await names()).toEqual(['notes']);
    expect((await admin('GET', `/v1/mcp/server/${server_id}`)).status).toBe(404);
  }, 30_000);
});
