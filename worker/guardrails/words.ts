import { isObject } from '../json.ts';

type Word = Record<string, unknown> & { word: string };

const norm = (t: string) => t.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
const same = (word: string, token: string) => word === token || (!/[<>]/.test(token) && norm(word) !== '' && norm(word) === norm(token));

/**
 * A transcription's word timestamps masked as its text was: the words before the first changed token and after
 * the last are kept, those between take the masked text (the first) or nothing. Over-masks between two changes,
 * never leaves a masked word in clear.
 */
function follow(before: string, after: string, words: Word[]): void {
  if (before === after || !words.length) return;
  const tokens = after.split(/\s+/).filter(Boolean);
  const [w, m] = [words.length, tokens.length];
  let p = 0;
  while (p < w && p < m && same(words[p]!.word, tokens[p]!)) p++;
  let s = 0;
  while (s < w - p && s < m - p && same(words[w - 1 - s]!.word, tokens[m - 1 - s]!)) s++;
  const replacement = tokens.slice(p, m - s).join(' ');
  for (let i = p; i < w - s; i++) words[i]!.word = i === p ? replacement : '';
}

/**
 * A transcription answer's `words`, to mask after its text and segments were guarded: one guardrail check of
 * the text, not one a word. Each word follows the segment it is timed in (the whole text where not every word
 * is in one). Returns a function that applies the masking (true where a word changed), or undefined.
 */
export function wordsFollower(answer: unknown): (() => boolean) | undefined {
  if (!isObject(answer) || typeof answer.text !== 'string' || !Array.isArray(answer.words)) return undefined;
  const words = answer.words.filter((x): x is Word => isObject(x) && typeof x.word === 'string');
  if (!words.length) return undefined;
  const segments = (Array.isArray(answer.segments) ? answer.segments : [])
    .filter((s): s is Record<string, unknown> & { text: string; start: number; end: number } => isObject(s) && typeof s.text === 'string' && typeof s.start === 'number' && typeof s.end === 'number');
  const inSegment = (word: Word, s: { start: number; end: number }) => typeof word.start === 'number' && word.start >= s.start && word.start < s.end;
  const bySegment = segments.length > 0 && words.every((word) => segments.some((s) => inSegment(word, s)));
  const groups = bySegment
    ? segments.map((s) => ({ holder: s as Record<string, unknown>, before: s.text, words: words.filter((word) => inSegment(word, s) && segments.find((t) => inSegment(word, t)) === s) }))
    : [{ holder: answer, before: answer.text, words }];
  return () => {
    const was = words.map((word) => word.word);
    for (const g of groups) follow(g.before, String(g.holder.text), g.words);
    return words.some((word, i) => word.word !== was[i]);
  };
}
