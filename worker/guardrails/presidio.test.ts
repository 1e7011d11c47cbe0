import { describe, expect, it } from 'vitest';
import { batchesOf, piiTokenizer, unmaskPii } from './presidio.ts';

describe('presidio output_parse_pii tokens', () => {
  it('tokenizes and unmasks tens of thousands of findings in linear time, one token a value', () => {
    const count = 40_000;
    const names = Array.from({ length: count }, (_, i) => `Name${i}`);
    const text = names.join(' ');
    let at = 0;
    const spans = names.map((n) => {
      const span = { start: at, end: at + n.length, entity_type: 'PERSON', score: 1 };
      at += n.length + 1;
      return span;
    });
    const tokens = new Map<string, string>();
    const started = performance.now();
    const tokenize = piiTokenizer(tokens);
    const masked = tokenize(text, spans);
    // The same value again (in another text of the call) keeps its token.
    const again = tokenize('Name7 and Name7', [{ start: 0, end: 5, entity_type: 'PERSON', score: 1 }, { start: 10, end: 15, entity_type: 'PERSON', score: 1 }]);
    const answer = unmaskPii(`Said: ${masked}`, tokens);
    const elapsed = performance.now() - started;
    expect(tokens.size).toBe(count);
    expect(masked).not.toContain('Name1 ');
    expect(masked).toMatch(/^<PERSON_1_[0-9a-f]{8}> <PERSON_2_[0-9a-f]{8}>/);
    expect(again).toBe(`${[...tokens].find(([, v]) => v === 'Name7')![0]} and ${[...tokens].find(([, v]) => v === 'Name7')![0]}`);
    expect(answer).toBe(`Said: ${text}`);
    // Quadratic work (a search of every token a finding, a pass of the answer a token) takes many seconds here.
    expect(elapsed).toBeLessThan(1500);
  });

  it('puts a value back once: a value that looks like a token is not read again', () => {
    const tokens = new Map([['<PERSON_1_aaaaaaaa>', '<PERSON_2_aaaaaaaa>'], ['<PERSON_2_aaaaaaaa>', 'Bob']]);
    expect(unmaskPii('Hi <PERSON_1_aaaaaaaa> and <x <PERSON_2_aaaaaaaa>', tokens)).toBe('Hi <PERSON_2_aaaaaaaa> and <x Bob');
  });
});

describe('presidio batches', () => {
  it('analyzes a text holding any part of the separator alone, so the anonymized batch splits where it was joined', () => {
    const texts = ['a', 'John Smith\n\n\u2063', '\n\nhello', 'b', 'c\u2063d', 'e'];
    const batches = batchesOf(texts);
    expect(batches.map((b) => b.slots)).toEqual([[0], [1], [2, 3], [4], [5]]);
    for (const b of batches) expect(b.text.split('\n\n\u2063\n\n')).toHaveLength(b.slots.length);
  });
});
