import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toConverseRequest } from '../worker/providers/bedrock/converse-request.ts';
import { converseChoice, converseResponseSchema, converseUsage, finishReasonOf } from '../worker/providers/bedrock/converse-response.ts';
import { bedrockError } from '../worker/providers/bedrock/errors.ts';
import { bedrockModelId } from '../worker/providers/bedrock/index.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as unknown;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('OpenAI → Converse request', () => {
  it('maps system, turns, images, tool calls and results, tools, tool choice and inference settings', () => {
    const request = toConverseRequest({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use tools.', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
        { role: 'assistant', content: '', tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'tooluse_2', type: 'function', function: { name: 'get_time', arguments: '' } },
        ] },
        { role: 'tool', tool_call_id: 'tooluse_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'tooluse_2', content: [{ type: 'text', text: '14:00' }] },
        { role: 'user', content: 'Thanks' },
      ],
      max_completion_tokens: 300, temperature: 0.2, top_p: 0.9, stop: 'END',
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: 'required',
    });
    expect(request).toEqual({
      system: [{ text: 'Be brief.' }, { text: 'Use tools.' }, { cachePoint: { type: 'default' } }],
      messages: [
        { role: 'user', content: [{ text: 'Weather here?' }, { image: { format: 'png', source: { bytes: PNG } } }] },
        { role: 'assistant', content: [
          { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'get_time', input: {} } },
        ] },
        { role: 'user', content: [
          { toolResult: { toolUseId: 'tooluse_1', content: [{ text: '18°C' }] } },
          { toolResult: { toolUseId: 'tooluse_2', content: [{ text: '14:00' }] } },
          { text: 'Thanks' },
        ] },
      ],
      inferenceConfig: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      toolConfig: {
        tools: [
          { toolSpec: { name: 'get_weather', description: 'Weather of a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } },
          { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
        ],
        toolChoice: { any: {} },
      },
    });
  });

  it('maps each tool choice; "none" leaves the tools out unless the history used them', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const messages = [{ role: 'user', content: 'x' }];
    const choice = (tool_choice: unknown) => toConverseRequest({ messages, tools, tool_choice }).toolConfig?.toolChoice;
    expect(choice('auto')).toEqual({ auto: {} });
    expect(choice({ type: 'function', function: { name: 'f' } })).toEqual({ tool: { name: 'f' } });
    expect(toConverseRequest({ messages, tools, tool_choice: 'none' }).toolConfig).toBeUndefined();
    const history = [...messages, { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 't', content: 'ok' }];
    expect(toConverseRequest({ messages: history, tools, tool_choice: 'none' }).toolConfig).toEqual({ tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }] });
  });

  it('refuses images it would have to fetch, and unknown image types', () => {
    const ask = (url: string) => () => toConverseRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    expect(ask('https://example.com/cat.png')).toThrow('Bedrock takes images as base64 data URLs (data:image/png;base64,...)');
    expect(ask('data:image/tiff;base64,AAAA')).toThrow('Bedrock does not take images of type image/tiff; use png, jpeg, gif or webp');
  });
});

describe('Converse answer → OpenAI', () => {
  it('reads text, tool calls and usage with cache reads and writes counted in the prompt', () => {
    const text = converseResponseSchema.parse(fixture('converse-text.json'));
    expect(converseChoice(text)).toEqual({ message: { role: 'assistant', content: 'Paris is the capital of France.' }, finishReason: 'stop' });
    expect(converseUsage(text.usage)).toEqual({ promptTokens: 1321, completionTokens: 9, cachedPromptTokens: 1200, cacheCreationTokens: 100, reported: true });
    const tool = converseResponseSchema.parse(fixture('converse-tool-use.json'));
    expect(converseChoice(tool)).toEqual({
      message: {
        role: 'assistant',
        content: 'I\'ll look up the weather in Paris.',
        tool_calls: [{ id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }],
      },
      finishReason: 'tool_calls',
    });
  });

  it('maps stop reasons', () => {
    expect(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'guardrail_intervened', 'content_filtered'].map(finishReasonOf))
      .toEqual(['stop', 'stop', 'length', 'tool_calls', 'content_filter', 'content_filter']);
  });

  it('takes the model id out of LiteLLM\'s route prefixes', () => {
    expect(bedrockModelId('converse/meta.llama3-1-70b-instruct-v1:0')).toBe('meta.llama3-1-70b-instruct-v1:0');
    expect(bedrockModelId('us.amazon.nova-pro-v1:0')).toBe('us.amazon.nova-pro-v1:0');
  });
});

describe('Bedrock errors', () => {
  const error = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
    bedrockError(new Response(JSON.stringify({ message }), { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers } }), ['sk-secret-value-123']);

  it('map the exception named in x-amzn-ErrorType to LiteLLM\'s status, class and retryability', async () => {
    const cases: [number, string, number, string, boolean][] = [
      [429, 'ThrottlingException', 429, 'RateLimitError', true],
      [400, 'ValidationException', 400, 'BadRequestError', false],
      [403, 'AccessDeniedException', 403, 'PermissionDeniedError', false],
      [429, 'ModelNotReadyException', 503, 'ServiceUnavailableError', true],
      [503, 'ServiceUnavailableException', 503, 'ServiceUnavailableError', true],
      [408, 'ModelTimeoutException', 408, 'Timeout', true],
    ];
    for (const [upstream, type, status, cls, retryable] of cases) {
      const err = await error(upstream, type, 'Something about sk-secret-value-123');
      expect({ status: err.status, message: err.message, retryable: err.retryable, upstreamStatus: err.upstreamStatus, provider: err.provider })
        .toEqual({ status, message: `litellm.${cls}: BedrockException - Something about [redacted]`, retryable, upstreamStatus: upstream, provider: 'bedrock' });
    }
  });

  it('keep retry-after', async () => {
    const err = await error(429, 'ThrottlingException', 'Too many requests, please wait before trying again.', { 'retry-after': '3' });
    expect(err.headers).toEqual({ 'retry-after': '3' });
    expect(err.type).toBe('rate_limit_error');
  });
});
