import { describe, expect, it } from 'vitest';
import { readUsage, type UsageReading, usageOf } from '../passthrough/usage-reader.ts';

// What an interaction is billed by (passthrough/usage-reader.ts reads every answer a pass-through call gets).
describe('an interaction\'s usage', () => {
  const usage = { total_input_tokens: 100, total_output_tokens: 20, total_thought_tokens: 5, total_cached_tokens: 40, input_tokens_by_modality: [{ modality: 'text', tokens: 60 }, { modality: 'image', tokens: 40 }] };

  it('of a whole answer: thoughts as output, cached tokens part of the input, image tokens as images', () => {
    const reading: UsageReading = {};
    readUsage({ id: 'v1_a', object: 'interaction', model: 'gemini-2.5-flash', status: 'completed', usage }, reading);
    expect(usageOf(reading)).toEqual({ promptTokens: 100, completionTokens: 25, cachedPromptTokens: 40, cacheCreationTokens: 0, imagePromptTokens: 40, reported: true });
    expect(reading.model).toBe('gemini-2.5-flash');
  });

  it('of a stream: the usage at interaction.completed (and the older interaction.complete)', () => {
    for (const type of ['interaction.completed', 'interaction.complete']) {
      const reading: UsageReading = {};
      readUsage({ event_type: 'interaction.created', interaction: { id: 'v1_s', status: 'in_progress', model: 'gemini-2.5-pro' } }, reading);
      readUsage({ event_type: 'step.delta', index: 0, delta: { type: 'text', text: 'abcd' } }, reading);
      expect(usageOf(reading)).toBeUndefined();
      readUsage({ event_type: type, interaction: { id: 'v1_s', status: 'completed', usage: { total_input_tokens: 7, total_output_tokens: 3 } } }, reading);
      expect(usageOf(reading)).toMatchObject({ promptTokens: 7, completionTokens: 3, reported: true });
      expect(reading.model).toBe('gemini-2.5-pro');
      expect(reading.textChars).toBe(4);
    }
  });
});
