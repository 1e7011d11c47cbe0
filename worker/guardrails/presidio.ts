import { GatewayError } from '../errors.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { upstreamUrl } from '../providers/upstream-url.ts';
import { isObject } from '../json.ts';
import type { GuardrailConfig } from './schema.ts';
import type { GuardInput, Verdict } from './services.ts';
import { inTurns, post, unreachable } from './service-call.ts';

// Many texts go to Presidio in one call, kept apart by this (paragraph breaks around an invisible separator).
const SEP_CHAR = '\u2063';
const SEP = `\n\n${SEP_CHAR}\n\n`;
// One analyzer call reads at most this many characters (a longer text alone), and a guardrail run makes at most
// MAX_CALLS of them (and as many anonymizer calls): more text than that is refused (400), never sent unchecked.
export const PRESIDIO_BATCH_CHARS = 100_000;
export const PRESIDIO_MAX_CALLS = 8;
// A Worker holds six connections at once: Presidio's calls take at most four.
const CONCURRENCY = 4;

/** A finding in one text, in JavaScript (UTF-16) positions of that text. */
interface Span { start: number; end: number; entity_type: string; score: number }

/** Texts analyzed in one call: their slots, the joined text, where each starts in it (UTF-16), and each's findings. */
interface Batch { slots: number[]; text: string; starts: number[]; spans: Span[][] }

/** Exported for its unit test. */
export function batchesOf(texts: readonly string[]): Batch[] {
  const out: Batch[] = [];
  let open: Batch | undefined;
  texts.forEach((text, i) => {
    if (!text.trim()) return;
    // A text holding the separator's rare character (even part of the separator), or as long as a batch, is analyzed alone:
    // the anonymizer's answer is split at the separator, which must then be only where it was put.
    const alone = text.includes(SEP_CHAR) || text.length >= PRESIDIO_BATCH_CHARS;
    if (!open || alone || open.text.length + SEP.length + text.length > PRESIDIO_BATCH_CHARS) {
      open = { slots: [], text: '', starts: [], spans: [] };
      out.push(open);
    }
    if (open.slots.length) open.text += SEP;
    open.slots.push(i);
    open.starts.push(open.text.length);
    open.spans.push([]);
    open.text += text;
    if (alone) open = undefined;
  });
  return out;
}

/** Presidio's offsets count code points (Python's): each code point's UTF-16 position, and each UTF-16 boundary's code point. */
function offsets(text: string): { units: number[]; points: Map<number, number> } {
  const units: number[] = [];
  const points = new Map<number, number>();
  let u = 0;
  for (const ch of text) {
    points.set(u, units.length);
    units.push(u);
    u += ch.length;
  }
  points.set(u, units.length);
  units.push(u);
  return { units, points };
}

/** Overlapping or touching-inside findings as one span (the longest's entity type), in order. */
function merged(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) {
      if (s.end - s.start > last.end - last.start) last.entity_type = s.entity_type;
      last.end = Math.max(last.end, s.end);
      last.score = Math.max(last.score, s.score);
    } else out.push({ ...s });
  }
  return out;
}

/**
 * Microsoft Presidio: the texts analyzed together (a few calls, however many texts); an entity configured BLOCK
 * refuses the call, the others are anonymized (`<PERSON>`), or numbered tokens with `output_parse_pii`.
 */
export async function presidio(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const analyzer = p.presidio_analyzer_api_base ?? envString(input.env, 'PRESIDIO_ANALYZER_API_BASE');
  const anonymizer = p.presidio_anonymizer_api_base ?? envString(input.env, 'PRESIDIO_ANONYMIZER_API_BASE');
  if (!analyzer || !anonymizer) throw unreachable(g, 'presidio_analyzer_api_base and presidio_anonymizer_api_base are needed');
  const entities = p.pii_entities_config ? Object.keys(p.pii_entities_config) : undefined;
  const thresholds = p.presidio_score_thresholds ?? {};
  const texts = input.texts.map((t) => t.text);
  const batches = batchesOf(texts);
  if (batches.length > PRESIDIO_MAX_CALLS) {
    throw new GatewayError(`Too much text for guardrail ${g.guardrail_name} to check: at most ${PRESIDIO_MAX_CALLS * PRESIDIO_BATCH_CHARS} characters a call`, { status: 400, type: 'guardrail_violation' });
  }
  await inTurns(batches, CONCURRENCY, async (batch) => {
    const answer = await post(g, upstreamUrl(analyzer, 'analyze'), { text: batch.text, language: p.presidio_language ?? 'en', ...(entities ? { entities } : {}) }, {}, []);
    if (!Array.isArray(answer)) throw unreachable(g, 'an analyzer answer that is not a list');
    const results = answer.filter((r): r is Record<string, unknown> => isObject(r)).filter((r) => {
      const min = thresholds[String(r.entity_type)] ?? thresholds.ALL;
      return min === undefined || (typeof r.score === 'number' && r.score >= min);
    });
    const blocked = results.find((r) => p.pii_entities_config?.[String(r.entity_type)] === 'BLOCK');
    if (blocked) throw new GatewayError(`Blocked entity detected: ${String(blocked.entity_type)} by Guardrail: ${g.guardrail_name}. This entity is not allowed to be used in this request.`, { status: 400, type: 'guardrail_violation' });
    const { units } = offsets(batch.text);
    for (const r of results) {
      const [start, end] = [r.start, r.end];
      // A finding that is not within the text sent fails the call: dropping it could send the entity in clear.
      if (!Number.isInteger(start) || !Number.isInteger(end) || (start as number) < 0 || (start as number) >= (end as number) || (end as number) >= units.length) {
        throw unreachable(g, `a ${String(r.entity_type)} finding outside the text it was sent`);
      }
      const [s, e] = [units[start as number]!, units[end as number]!];
      // The texts it touches: from the last that starts at or before it (a binary search: no pass over every text a finding).
      for (let k = lastStartingBy(batch.starts, s); k < batch.slots.length && batch.starts[k]! < e; k++) {
        const lo = batch.starts[k]!;
        const hi = lo + texts[batch.slots[k]!]!.length;
        if (s < hi && e > lo) batch.spans[k]!.push({ start: Math.max(s, lo) - lo, end: Math.min(e, hi) - lo, entity_type: String(r.entity_type), score: typeof r.score === 'number' ? r.score : 1 });
      }
    }
    batch.spans = batch.spans.map(merged);
  });
  const found = batches.filter((b) => b.spans.some((s) => s.length));
  if (!found.length) return { action: 'allow' };
  const out = [...texts];
  // output_parse_pii (LiteLLM's): numbered tokens the answer's are later swapped back for (unmaskPii).
  if (p.output_parse_pii === true && input.source === 'INPUT' && input.piiTokens) {
    const tokenize = piiTokenizer(input.piiTokens);
    for (const b of found) b.slots.forEach((slot, k) => (out[slot] = tokenize(out[slot]!, b.spans[k]!)));
    return { action: 'mask', texts: out };
  }
  await inTurns(found, CONCURRENCY, async (b) => {
    // The anonymizer reads code-point offsets in the joined text, as the analyzer gave them.
    const { points } = offsets(b.text);
    const results = b.spans.flatMap((spans, k) => spans.map((s) => ({
      entity_type: s.entity_type, score: s.score, start: points.get(b.starts[k]! + s.start)!, end: points.get(b.starts[k]! + s.end)!,
    })));
    const anonymized = await post(g, upstreamUrl(anonymizer, 'anonymize'), { text: b.text, analyzer_results: results }, {}, []);
    if (!isObject(anonymized) || typeof anonymized.text !== 'string') throw unreachable(g, 'an anonymizer answer without text');
    const parts = b.slots.length === 1 ? [anonymized.text] : anonymized.text.split(SEP);
    if (parts.length !== b.slots.length) throw unreachable(g, 'an anonymizer answer that does not keep the texts apart');
    b.slots.forEach((slot, k) => (out[slot] = parts[k]!));
  });
  return { action: 'mask', texts: out };
}

/** A short random suffix for one call's tokens: a token never stands for another call's value, nor for text a client wrote. */
function callSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The index of the last of ascending `starts` at or before `at` (0 when none is). */
function lastStartingBy(starts: readonly number[], at: number): number {
  let [lo, hi] = [0, starts.length - 1];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Replaces each entity span of a text with a numbered token (`<PERSON_1_3fa9c2d0>`), recorded in `tokens`: numbered
 * across the call's texts, one token a value (LiteLLM's tokens are unique within a call too). A value→token map and
 * a counter per entity type keep it linear in the findings, however many. Exported for its unit test.
 */
export function piiTokenizer(tokens: Map<string, string>): (text: string, spans: readonly Span[]) => string {
  const suffix = callSuffix();
  // What earlier guardrails of the call tokenized keeps its token.
  const byValue = new Map<string, string>();
  for (const [token, value] of tokens) if (!byValue.has(value)) byValue.set(value, token);
  const counts = new Map<string, number>();
  return (text, spans) => {
    let out = '';
    let at = 0;
    for (const { start, end, entity_type: type } of spans) {
      const value = text.slice(start, end);
      let token = byValue.get(value);
      if (!token) {
        const n = (counts.get(type) ?? 0) + 1;
        counts.set(type, n);
        token = `<${type}_${n}_${suffix}>`;
        tokens.set(token, value);
        byValue.set(value, token);
      }
      out += text.slice(at, start) + token;
      at = end;
    }
    return out + text.slice(at);
  };
}

/**
 * A model's answer with the call's PII tokens (output_parse_pii) put back to what they replaced, as LiteLLM unmasks it:
 * one pass over the answer (every `<...>` looked up), however many tokens, and a value put back is not read again.
 */
export function unmaskPii(text: string, tokens: ReadonlyMap<string, string>): string {
  if (!tokens.size || !text.includes('<')) return text;
  return text.replace(/<[^<>]{1,200}>/g, (m) => tokens.get(m) ?? m);
}
