import { describe, expect, it } from 'vitest';
import { refusedOutcome } from './refused-answer.ts';

// An answer a guardrail refused, or one past max_response_size_mb, is settled for its cost with nothing it said.

describe('refusedOutcome', () => {
  it('keeps the usage and drops the text, the tool calls and the reasoning', () => {
    const usage = { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
    const refused = refusedOutcome({
      usage, finishedAt: 7, responseText: 'It is 4.', responseReasoning: { reasoning_content: 'Two plus two is four.' },
      responseToolCalls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{}' } }],
    });
    expect(refused).toMatchObject({ usage, finishedAt: 7 });
    expect(JSON.stringify(refused)).not.toMatch(/It is 4|Two plus|call_1/);
  });
});
