import { describe, expect, it } from 'vitest';
import { MAX_KEPT_REASONING_CHARS, ReasoningJoiner, ThinkingJoiner } from './kept-reasoning.ts';

describe('ThinkingJoiner', () => {
  it('lets go of what it kept once past the cap and holds nothing that comes after', () => {
    const joiner = new ThinkingJoiner();
    joiner.start(0, { type: 'thinking', thinking: '', signature: '' });
    joiner.thinking(0, 'x'.repeat(MAX_KEPT_REASONING_CHARS));
    joiner.signature(0, 'EqQBsig');
    joiner.stop(0);
    expect(joiner.cut).toBe(true);
    // A long answer goes on thinking past the cap: none of it may pile up in the isolate.
    joiner.start(1, { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' });
    joiner.thinking(2, 'more');
    joiner.signature(3, 'EqQBsig3');
    joiner.stop(2);
    expect(joiner['blocks'].size).toBe(0);
    expect(joiner['open'].size).toBe(0);
    expect(joiner.cut).toBe(true);
    expect(joiner.kept()).toEqual({ partsLeftOut: true });
  });
});

describe('ReasoningJoiner', () => {
  it('keeps the reasoning joined field by field, none past the cap (the answer then marked as not whole), nothing where none came', () => {
    const joiner = new ReasoningJoiner();
    expect(joiner.kept()).toEqual({});
    joiner.add('reasoning_content', 'Two plus ');
    joiner.add('reasoning', 'Sum');
    joiner.add('reasoning_content', 'two.');
    expect(joiner.kept()).toEqual({ responseReasoning: { reasoning_content: 'Two plus two.', reasoning: 'Sum' } });
    joiner.add('reasoning', 'x'.repeat(MAX_KEPT_REASONING_CHARS));
    expect(joiner.kept()).toEqual({ partsLeftOut: true });
  });
});
