import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeploymentRef } from '../models/deployments.ts';
import { anthropic } from './anthropic/index.ts';
import { bedrock } from './bedrock/index.ts';
import { geminiChat } from './google/gemini-chat.ts';
import type { ProviderAnswer, ProviderCall } from './types.ts';
import { claudeChat } from './vertex_ai/anthropic.ts';
import type { VertexTarget } from './vertex_ai/target.ts';

// A translated provider's plain (not streamed) answer keeps its reasoning beside its text for the logs, as
// `reasoning_content`, where the call keeps its text; none where it does not (nothing kept off the hot path).

const THOUGHT = '27 * 453 = 12231';

/** Each provider's non-streamed answer, in its own wire format, thinking before the text. */
const claudeMessage = {
  id: 'msg_01Think', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', stop_reason: 'end_turn', stop_sequence: null,
  content: [{ type: 'thinking', thinking: THOUGHT, signature: 'EqQBCgIYAhIM' }, { type: 'text', text: '12,231' }],
  usage: { input_tokens: 40, output_tokens: 30 },
};
const converseAnswer = {
  output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: THOUGHT, signature: 'sig' } } }, { text: '12,231' }] } },
  stopReason: 'end_turn', usage: { inputTokens: 40, outputTokens: 30, totalTokens: 70 }, metrics: { latencyMs: 100 },
};
const geminiAnswer = {
  candidates: [{ index: 0, finishReason: 'STOP', content: { role: 'model', parts: [{ text: THOUGHT, thought: true }, { text: '12,231' }] } }],
  usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 10, thoughtsTokenCount: 20, totalTokenCount: 70 },
};

function deployment(provider: string, model: string, params: Record<string, unknown> = {}): DeploymentRef {
  return { id: `${provider}-1`, group: 'thinker', provider, model, params: { model: `${provider}/${model}`, ...params }, info: {} } as unknown as DeploymentRef;
}
function call(dep: DeploymentRef, keepText: boolean): ProviderCall {
  return {
    endpoint: 'chat', deployment: dep, body: { model: 'thinker', messages: [{ role: 'user', content: '27 * 453?' }] }, stream: false,
    clientWantsUsage: false, dropParams: false, env: {}, timeoutMs: 5000, promptTokenEstimate: 10, keepText,
  };
}
/** The upstream answers `body` (JSON) to any request. */
const upstream = (body: unknown) => vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })));

afterEach(() => vi.unstubAllGlobals());

const adapters: [string, unknown, (keepText: boolean) => Promise<ProviderAnswer>][] = [
  ['anthropic', claudeMessage, (keep) => anthropic.call(call(deployment('anthropic', 'claude-sonnet-4-5', { api_key: 'sk-ant-test' }), keep))],
  ['bedrock (Converse)', converseAnswer, (keep) => bedrock.call(call(deployment('bedrock', 'anthropic.claude-sonnet-4-5', {
    aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret', aws_region_name: 'us-east-1',
  }), keep))],
  ['gemini', geminiAnswer, (keep) => geminiChat(call(deployment('gemini', 'gemini-2.5-pro'), keep), {
    url: new URL('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent'), headers: {}, secrets: [], label: 'Gemini', provider: 'gemini',
  })],
  ['vertex_ai (Claude)', claudeMessage, (keep) => {
    const target = { project: 'p', location: 'us-east5', base: 'https://us-east5-aiplatform.googleapis.com' } as VertexTarget;
    return claudeChat(call(deployment('vertex_ai', 'claude-sonnet-4-5'), keep), target, 'ya29.token');
  }],
];

describe.each(adapters)('%s: a plain answer\'s reasoning', (_name, answer, send) => {
  it('is kept beside the text where the call keeps its text', async () => {
    upstream(answer);
    const outcome = await (await send(true)).outcome;
    expect(outcome.responseText).toBe('12,231');
    expect(outcome.responseReasoning).toEqual({ reasoning_content: THOUGHT });
  });

  it('is not kept where the call does not keep its text', async () => {
    upstream(answer);
    const outcome = await (await send(false)).outcome;
    expect(outcome.responseText).toBeUndefined();
    expect(outcome.responseReasoning).toBeUndefined();
  });
});
