import { describe, expect, it } from 'vitest';
import { MAX_KEPT_REASONING_CHARS, ThinkingJoiner } from './kept-reasoning.ts';

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
    expect(joiner.reasoning()).toBeUndefined();
  });
});
