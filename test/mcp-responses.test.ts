// MCP tools in the Responses API for any model (server_url: litellm_proxy) (the stack: support/mcp-stack.ts).
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { docs, generateKey, legacy, llm, math, personal, stack, text, useMcpStack } from './support/mcp-stack.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

useMcpStack();

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
