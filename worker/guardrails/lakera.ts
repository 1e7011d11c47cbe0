import { isObject } from '../json.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { upstreamUrl } from '../providers/upstream-url.ts';
import { log } from '../telemetry/log.ts';
import type { GuardrailConfig } from './schema.ts';
import type { GuardInput, Verdict } from './services.ts';
import { post } from './service-call.ts';

/** One of Lakera's `payload` findings: where in which message (code points, as LiteLLM slices them), and its detector. */
interface Finding { message: number; start: number; end: number; type: string }

/** The detectors that found something (`breakdown` items with `detected: true`). */
function detected(answer: Record<string, unknown>): string[] {
  return Array.isArray(answer.breakdown)
    ? answer.breakdown.filter((b) => isObject(b) && b.detected === true).map((b) => String((b as { detector_type?: unknown }).detector_type ?? ''))
    : [];
}

/**
 * The texts with Lakera's PII findings replaced by `[MASKED EMAIL]` (the detector's last part, as LiteLLM masks
 * them), each text being the message of that index; undefined when a finding does not fit its text or there is
 * none (a flagged call is then not let through unmasked: on_flagged decides).
 */
export function maskedByPayload(texts: readonly string[], payload: unknown): string[] | undefined {
  if (!Array.isArray(payload)) return undefined;
  const findings: Finding[] = [];
  for (const p of payload) {
    if (!isObject(p) || typeof p.detector_type !== 'string' || !p.detector_type) continue;
    const { message_id: message, start, end } = p;
    if (!Number.isInteger(message) || !Number.isInteger(start) || !Number.isInteger(end)) return undefined;
    const text = texts[message as number];
    if (text === undefined || (start as number) < 0 || (end as number) < (start as number) || (end as number) > Array.from(text).length) return undefined;
    findings.push({ message: message as number, start: start as number, end: end as number, type: p.detector_type.split('/').pop()!.toUpperCase() || 'PII' });
  }
  if (!findings.length) return undefined;
  return texts.map((text, i) => {
    let points = Array.from(text);
    // From the end, so earlier offsets still hold after each replacement.
    for (const f of merged(findings.filter((f) => f.message === i)).reverse()) {
      points = [...points.slice(0, f.start), `[MASKED ${f.type}]`, ...points.slice(f.end)];
    }
    return points.join('');
  });
}

/**
 * One message's findings in order, those that overlap (two detectors on one span, a span inside another) made
 * one: their union, named by the widest's type. Replacing each of them in turn would cut the text around them.
 */
function merged(findings: Finding[]): Finding[] {
  const out: (Finding & { width: number })[] = [];
  for (const f of [...findings].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const last = out[out.length - 1];
    if (!last || f.start >= last.end) {
      out.push({ ...f, width: f.end - f.start });
      continue;
    }
    if (f.end - f.start > last.width) Object.assign(last, { type: f.type, width: f.end - f.start });
    last.end = Math.max(last.end, f.end);
  }
  return out;
}

/**
 * Lakera Guard (v2), each text a message: a conversation flagged for PII only (every detector `pii/...`) is
 * passed with that PII masked at the `payload` offsets, whatever `on_flagged`; any other flag is blocked,
 * or with `on_flagged: monitor` logged (its detectors, never the text) and let through, as LiteLLM's.
 */
export async function lakera(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const key = p.api_key ?? envString(input.env, 'LAKERA_API_KEY');
  const base = p.api_base ?? envString(input.env, 'LAKERA_API_BASE') ?? 'https://api.lakera.ai';
  const answer = await post(g, upstreamUrl(base, 'v2/guard'), {
    messages: input.texts.map((t) => ({ role: t.role, content: t.text })), ...(p.project_id ? { project_id: p.project_id } : {}), breakdown: true, payload: true,
  }, key ? { authorization: `Bearer ${key}` } : {}, [key]);
  if (!isObject(answer) || answer.flagged !== true) return { action: 'allow' };
  const detectors = detected(answer);
  if (detectors.length && detectors.every((d) => d.startsWith('pii/'))) {
    const texts = maskedByPayload(input.texts.map((t) => t.text), answer.payload);
    if (texts) return { action: 'mask', texts };
  }
  const named = detectors.filter(Boolean);
  if (p.on_flagged === 'monitor') {
    log.warn(`Lakera guardrail ${g.guardrail_name} (monitor): flagged${named.length ? ` (${named.join(', ')})` : ''}, let through`, { callId: input.callId, source: input.source });
    return { action: 'allow' };
  }
  return { action: 'block', message: `Violated guardrail policy (${g.guardrail_name}): flagged by Lakera Guard${named.length ? ` (${named.join(', ')})` : ''}` };
}
