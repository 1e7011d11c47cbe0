import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { interceptionSettings } from './settings.ts';
import { interceptedRequest, isWebSearchTool, searchCalls, searchNames } from './tools.ts';

const tool = { search_tool_name: 'web', litellm_params: { search_provider: 'tavily', api_key: 'tvly-x' } };
const warningsOf = (litellm_settings: Record<string, unknown>, search_tools: unknown[] = [tool]) => {
  const result = validateConfig({ model_list: [], litellm_settings, search_tools }, {});
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.warnings;
};

describe('websearch_interception config', () => {
  it('takes the callback and its params without a warning', () => {
    expect(warningsOf({ callbacks: ['websearch_interception'], websearch_interception_params: { enabled_providers: ['openai'], search_tool_name: 'web', max_agentic_loops: 2 } })).toEqual([]);
  });

  it('warns when there is nothing to search with, or the named tool is not configured', () => {
    expect(warningsOf({ callbacks: ['websearch_interception'] }, [])).toEqual([expect.stringContaining('needs a search tool')]);
    expect(warningsOf({ callbacks: ['websearch_interception'], websearch_interception_params: { search_tool_name: 'nope' } }))
      .toEqual([expect.stringContaining('"nope" is not one of search_tools')]);
  });

  it('intercepts Bedrock only without enabled_providers, and nothing with an empty list, as LiteLLM', () => {
    const settingsOf = (params: Record<string, unknown> | undefined) => {
      const result = validateConfig({ model_list: [], litellm_settings: { callbacks: ['websearch_interception'], ...(params ? { websearch_interception_params: params } : {}) }, search_tools: [tool] }, {});
      if (!result.ok) throw new Error(result.errors.join('; '));
      return interceptionSettings(result.config as TollgateConfig);
    };
    expect([...settingsOf(undefined)!.providers]).toEqual(['bedrock']);
    expect([...settingsOf({ search_tool_name: 'web' })!.providers]).toEqual(['bedrock']);
    expect(settingsOf({ enabled_providers: [] })).toBeNull();
    expect(warningsOf({ callbacks: ['websearch_interception'], websearch_interception_params: { enabled_providers: [] } })).toEqual([expect.stringContaining('enables no provider')]);
    expect([...settingsOf({ enabled_providers: ['openai'] })!.providers]).toEqual(['openai']);
  });

  it('refuses a loop ceiling that is not a positive whole number', () => {
    const result = validateConfig({ litellm_settings: { callbacks: ['websearch_interception'], websearch_interception_params: { max_agentic_loops: 0 } }, search_tools: [tool] }, {});
    expect(result.ok).toBe(false);
  });
});

describe('which tools are intercepted', () => {
  it('takes LiteLLM\'s tool and Anthropic\'s native ones, never a client\'s own web_search', () => {
    expect(isWebSearchTool({ type: 'function', function: { name: 'litellm_web_search', parameters: {} } }, 'chat')).toBe(true);
    expect(isWebSearchTool({ type: 'function', function: { name: 'web_search' } }, 'chat')).toBe(true);
    expect(isWebSearchTool({ type: 'function', function: { name: 'web_search', parameters: { type: 'object' } } }, 'chat')).toBe(false);
    expect(isWebSearchTool({ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }, 'messages')).toBe(true);
    expect(isWebSearchTool({ name: 'WebSearch', input_schema: { type: 'object' } }, 'messages')).toBe(false);
    expect(isWebSearchTool({ type: 'web_search_20250305', name: 'web_search' }, 'chat')).toBe(false);
  });

  it('sends one standard tool, not streamed, and forces it where the client forced the native one', () => {
    const sent = interceptedRequest({
      model: 'm', stream: true, messages: [], tool_choice: { type: 'tool', name: 'web_search' },
      tools: [{ type: 'web_search_20250305', name: 'web_search' }, { name: 'weather', input_schema: { type: 'object' } }],
    }, 'messages');
    expect(sent).toMatchObject({ stream: false, tool_choice: { type: 'tool', name: 'litellm_web_search' } });
    expect((sent!.tools as { name: string }[]).map((t) => t.name)).toEqual(['weather', 'litellm_web_search']);
    expect(interceptedRequest({ model: 'm', messages: [], tools: [{ name: 'weather', input_schema: {} }] }, 'messages')).toBeUndefined();
  });
});

describe('which tool calls are searches', () => {
  const call = (name: string) => ({ choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name, arguments: '{"query":"q"}' } }] } }] });
  const own = { type: 'function', function: { name: 'web_search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };
  const standard = { type: 'function', function: { name: 'litellm_web_search' } };

  it('leaves a call of the client\'s own web_search to the client, beside litellm_web_search', () => {
    const names = searchNames({ tools: [own, standard] }, 'chat');
    expect([...names]).toEqual(['litellm_web_search']);
    expect(searchCalls(call('web_search'), 'chat', names)).toBeUndefined();
    expect(searchCalls(call('litellm_web_search'), 'chat', names)).toEqual([{ id: 'c1', query: 'q' }]);
  });

  it('counts a name the request converted (a bare web_search, a native Messages tool)', () => {
    expect(searchNames({ tools: [{ type: 'function', function: { name: 'web_search' } }] }, 'chat').has('web_search')).toBe(true);
    expect(searchNames({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'messages').has('web_search')).toBe(true);
  });
});
