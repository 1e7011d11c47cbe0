import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { interceptedResponsesRequest, isResponsesWebSearchTool, responsesFollowUpBody, responsesFollowUpItems, responsesSearchCalls } from './responses.ts';
import { searchFingerprint } from './loop-bounds.ts';

const names = new Set(['litellm_web_search']);
const call = (name: string, id = 'call_1') => ({ type: 'function_call', id: `fc_${id}`, call_id: id, name, arguments: '{"query":"q"}', status: 'completed' });

describe('web search on the Responses API', () => {
  it('takes OpenAI\'s hosted web search types and the litellm_web_search function, never another function', () => {
    for (const type of ['web_search', 'web_search_preview', 'web_search_2025_08_26', 'web_search_preview_2025_03_11']) expect(isResponsesWebSearchTool({ type })).toBe(true);
    expect(isResponsesWebSearchTool({ type: 'function', name: 'litellm_web_search', parameters: {} })).toBe(true);
    expect(isResponsesWebSearchTool({ type: 'function', name: 'web_search', parameters: {} })).toBe(false);
    expect(isResponsesWebSearchTool({ type: 'file_search' })).toBe(false);
  });

  it('sends the standard function, not streamed, forcing it where the client forced a hosted search; leaves background and MCP calls alone', () => {
    const sent = interceptedResponsesRequest({ model: 'm', input: 'x', stream: true, stream_options: {}, tool_choice: { type: 'web_search_preview' }, tools: [{ type: 'web_search_preview' }, { type: 'function', name: 'weather' }] });
    expect(sent).toMatchObject({ stream: false, tool_choice: { type: 'function', name: 'litellm_web_search' } });
    expect(sent!.stream_options).toBeUndefined();
    expect((sent!.tools as { name: string }[]).map((t) => t.name)).toEqual(['weather', 'litellm_web_search']);
    expect(interceptedResponsesRequest({ model: 'm', input: 'x', background: true, tools: [{ type: 'web_search' }] })).toBeUndefined();
    expect(interceptedResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }, { type: 'mcp', server_url: 'litellm_proxy' }] })).toBeUndefined();
    expect(interceptedResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'weather' }] })).toBeUndefined();
  });

  it('leaves a call with the proxy\'s MCP tools of named servers (litellm_proxy/mcp/<server>) to the MCP loop, but not a provider\'s MCP server', () => {
    expect(interceptedResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }, { type: 'mcp', server_url: 'litellm_proxy/mcp/github' }] })).toBeUndefined();
    expect(interceptedResponsesRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }, { type: 'mcp', server_url: 'https://mcp.example.com/sse' }] })).toBeDefined();
  });

  it('makes an allowed_tools choice name the standard function instead of the hosted tool, and lets follow-ups answer', () => {
    const choice = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'web_search' }, { type: 'web_search_preview' }, { type: 'function', name: 'weather' }] };
    const sent = interceptedResponsesRequest({ model: 'm', input: 'x', tool_choice: choice, tools: [{ type: 'web_search' }, { type: 'function', name: 'weather' }] })!;
    expect(sent.tool_choice).toEqual({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'weather' }, { type: 'function', name: 'litellm_web_search' }] });
    expect(responsesFollowUpBody(sent, [], []).tool_choice).toBe('auto');
    expect(responsesFollowUpBody({ model: 'm', input: 'x', tool_choice: 'none' }, [], []).tool_choice).toBe('none');
    expect(responsesFollowUpBody({ model: 'm', input: 'x' }, [], []).tool_choice).toBeUndefined();
  });

  it('runs only a turn whose calls are all searches', () => {
    expect(responsesSearchCalls({ output: [{ type: 'reasoning' }, call('litellm_web_search')] }, names)).toEqual([{ id: 'call_1', query: 'q' }]);
    expect(responsesSearchCalls({ output: [call('litellm_web_search'), call('weather', 'call_2')] }, names)).toBeUndefined();
    expect(responsesSearchCalls({ output: [{ type: 'message', content: [] }] }, names)).toBeUndefined();
  });

  it('runs a search beside the provider\'s own tool items, never beside a call the client runs', () => {
    const served = [
      { type: 'mcp_list_tools', id: 'mcpl_1', server_label: 'docs', tools: [] },
      { type: 'mcp_call', id: 'mcp_1', name: 'lookup', arguments: '{}', server_label: 'docs', output: 'x' },
      { type: 'file_search_call', id: 'fs_1', queries: ['q'], status: 'completed' },
      { type: 'web_search_call', id: 'ws_1', status: 'completed' },
      { type: 'code_interpreter_call', id: 'ci_1', status: 'completed' },
      { type: 'image_generation_call', id: 'ig_1', status: 'completed' },
    ];
    expect(responsesSearchCalls({ output: [...served, call('litellm_web_search')] }, names)).toEqual([{ id: 'call_1', query: 'q' }]);
    for (const type of ['custom_tool_call', 'computer_call', 'local_shell_call', 'shell_call', 'apply_patch_call', 'mcp_approval_request']) {
      expect(responsesSearchCalls({ output: [{ type, id: 'x_1', call_id: 'c_2' }, call('litellm_web_search')] }, names)).toBeUndefined();
    }
    // The provider's items are not replayed (as input they need their ids; the provider runs them again).
    const added = responsesFollowUpItems({ output: [...served, call('litellm_web_search')] }, [{ id: 'call_1', query: 'q' }], ['r']);
    expect(added.map((i) => i.type)).toEqual(['function_call', 'function_call_output']);
  });

  it('replays a turn without the provider\'s item ids (another deployment stored none), reasoning only with its encrypted_content', () => {
    const answer = { output: [{ type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'gAAA' }, call('litellm_web_search')] };
    const added = responsesFollowUpItems(answer, [{ id: 'call_1', query: 'q' }], ['result']);
    expect(added).toEqual([
      { type: 'reasoning', summary: [], encrypted_content: 'gAAA' },
      { type: 'function_call', call_id: 'call_1', name: 'litellm_web_search', arguments: '{"query":"q"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'result' },
    ]);
    const said = responsesFollowUpItems({ output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hm' }] }] }, [], []);
    expect(said).toEqual([{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hm' }] }]);
    const request = { model: 'm', conversation: 'conv_1', input: 'x', tool_choice: 'required' };
    expect(responsesFollowUpBody(request, [], added)).toEqual({ model: 'm', conversation: 'conv_1', input: [added[2]], tool_choice: 'auto' });
  });

  it('tells a round asking the same queries in another order from one asking new ones', () => {
    expect(searchFingerprint([{ id: 'a', query: 'x' }, { id: 'b', query: 'y' }])).toBe(searchFingerprint([{ id: 'c', query: 'y' }, { id: 'd', query: 'x' }]));
    expect(searchFingerprint([{ id: 'a', query: 'x' }])).not.toBe(searchFingerprint([{ id: 'a', query: 'x (2)' }]));
  });

  it('takes a deployment\'s own max_agentic_loops (a whole number from 1, os.environ strings too), and refuses 0', () => {
    const withLoops = (max_agentic_loops: unknown) => validateConfig({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-x', max_agentic_loops } }] }, {});
    const ok = withLoops('2');
    expect(ok.ok && ok.config.model_list[0]!.litellm_params.max_agentic_loops).toBe(2);
    expect(withLoops(0).ok).toBe(false);
  });
});
