import { describe, expect, it } from 'vitest';
import { addCost, addUsage, functionName, replayedInput, responseEvents, serversOf, toolFilterOf, toolOutputText } from './responses-tools.ts';

describe('MCP tools in the Responses API: the pieces', () => {
  it('names functions as providers take them (^[a-zA-Z0-9_-]{1,64}$), unique', () => {
    expect(functionName('math', 'add', new Set())).toBe('math-add');
    expect(functionName('docs.v2', 'files/read', new Set())).toBe('docs_v2-files_read');
    const long = functionName('server', 'x'.repeat(100), new Set());
    expect(long).toMatch(/^[a-zA-Z0-9_-]{64}$/);
    expect(functionName('server', 'x'.repeat(100), new Set([long]))).toMatch(/^[a-zA-Z0-9_-]{1,64}_2$/);
  });

  it('reads server_url and allowed_tools as OpenAI and LiteLLM write them', () => {
    expect(serversOf({ server_url: 'litellm_proxy' })).toBeUndefined();
    expect(serversOf({ server_url: 'litellm_proxy/mcp/a,b' })).toEqual(['a', 'b']);
    expect(serversOf({ server_url: 'litellm_proxy/foo' })).toBeNull();
    const tools = [{ name: 'read', annotations: { readOnlyHint: true } }, { name: 'write' }];
    expect(tools.filter(toolFilterOf({ allowed_tools: ['write'] })!).map((t) => t.name)).toEqual(['write']);
    expect(tools.filter(toolFilterOf({ allowed_tools: { read_only: true } })!).map((t) => t.name)).toEqual(['read']);
    expect(tools.filter(toolFilterOf({ allowed_tools: { tool_names: ['read', 'write'], read_only: true } })!).map((t) => t.name)).toEqual(['read']);
    expect(toolFilterOf({})).toBeUndefined();
  });

  it('replays an earlier answer\'s MCP items as the function calls and outputs they were', () => {
    const replayed = replayedInput([
      { type: 'message', role: 'user', content: 'hi' },
      { type: 'mcp_list_tools', id: 'l1', server_label: 'math', tools: [] },
      { type: 'mcp_call', id: 'mcp_1', server_label: 'math', name: 'add', arguments: '{"a":1}', output: '2', error: null },
      { type: 'mcp_call', id: 'mcp_2', server_label: 'math', name: 'fail', arguments: '{}', output: null, error: { type: 'mcp_tool_execution_error', content: [] } },
    ], (label, tool) => (label === 'math' && tool === 'add' ? 'math-add' : undefined));
    expect(replayed).toEqual([
      { type: 'message', role: 'user', content: 'hi' },
      { type: 'function_call', call_id: 'mcp_1', name: 'math-add', arguments: '{"a":1}' },
      { type: 'function_call_output', call_id: 'mcp_1', output: '2' },
      { type: 'function_call', call_id: 'mcp_2', name: 'math-fail', arguments: '{}' },
      { type: 'function_call_output', call_id: 'mcp_2', output: 'Error: {"type":"mcp_tool_execution_error","content":[]}' },
    ]);
  });

  it('sums usage and cost without noise, and cuts a huge tool result', () => {
    expect(addUsage(addUsage(undefined, { input_tokens: 1, output_tokens_details: { reasoning_tokens: 2 } }), { input_tokens: 3, output_tokens_details: { reasoning_tokens: 4 } }))
      .toEqual({ input_tokens: 4, output_tokens_details: { reasoning_tokens: 6 } });
    expect(addCost(0.0002, 0.00055)).toBe(0.00075);
    const huge = toolOutputText({ content: [{ type: 'text', text: 'x'.repeat(200_000) }] });
    expect(huge.length).toBeLessThan(100_100);
    expect(huge.endsWith("[cut: the tool's result was 200000 characters]")).toBe(true);
  });

  it('streams a finished answer as the Responses events, ending as it ended', () => {
    const message = { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] };
    const events = responseEvents({ id: 'resp_1', status: 'completed', output: [message] });
    expect(events.map((e) => e.type)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(responseEvents({ id: 'resp_2', status: 'incomplete', output: [] }).at(-1)?.type).toBe('response.incomplete');
  });
});
