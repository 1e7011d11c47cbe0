import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { authHeaders, authSecrets, bedrockAuth } from '../providers/bedrock/auth.ts';
import { bedrockBase } from '../providers/bedrock/index.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { scrubSecrets } from '../providers/openai-compatible/errors.ts';
import { upstreamUrl } from '../providers/upstream-url.ts';
import type { GuardrailConfig } from './schema.ts';
import type { TextSlot } from './texts.ts';
import { isObject } from '../json.ts';

/** What a guardrail says of some texts: let them through, refuse the call, or pass them masked (one text a slot, in order). */
export type Verdict = { action: 'allow' } | { action: 'block'; message: string } | { action: 'mask'; texts: string[] };

export interface GuardInput {
  source: 'INPUT' | 'OUTPUT';
  texts: TextSlot[];
  env: Record<string, unknown>;
  callId: string;
}

// A guardrail service that does not answer in this time fails the call (closed, not open).
const TIMEOUT_MS = 10_000;
const ALLOW: Verdict = { action: 'allow' };

type Params = GuardrailConfig['litellm_params'];

async function post(g: GuardrailConfig, url: URL, body: unknown, headers: Record<string, string>, secrets: (string | undefined)[]): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw unreachable(g, 'no answer');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw unreachable(g, `HTTP ${res.status}: ${scrubSecrets(text, secrets).slice(0, 200)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw unreachable(g, 'an answer that is not JSON');
  }
}

function unreachable(g: GuardrailConfig, why: string): GatewayError {
  return new GatewayError(`Guardrail ${g.guardrail_name} (${g.litellm_params.guardrail}) failed to respond: ${why}`, { status: 502, type: 'guardrail_failed_to_respond' });
}

/** AWS Bedrock Guardrails' ApplyGuardrail: blocked when an assessment says BLOCKED; anonymized texts are passed masked. */
async function bedrock(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  if (!p.guardrailIdentifier) throw unreachable(g, 'no guardrailIdentifier configured');
  const credentials: DeploymentRef = {
    id: '', group: g.guardrail_name, provider: 'bedrock', model: 'guardrail', info: {},
    params: {
      model: 'bedrock/guardrail', ...(p.api_base ? { api_base: p.api_base } : {}), ...(p.api_key ? { api_key: p.api_key } : {}),
      ...(p.aws_region_name ? { aws_region_name: p.aws_region_name } : {}), ...(p.aws_access_key_id ? { aws_access_key_id: p.aws_access_key_id } : {}),
      ...(p.aws_secret_access_key ? { aws_secret_access_key: p.aws_secret_access_key } : {}), ...(p.aws_session_token ? { aws_session_token: p.aws_session_token } : {}),
    },
  };
  const auth = bedrockAuth(credentials, input.env);
  const url = upstreamUrl(bedrockBase(credentials, auth.region), `guardrail/${encodeURIComponent(p.guardrailIdentifier)}/version/${encodeURIComponent(p.guardrailVersion ?? 'DRAFT')}/apply`);
  const body = JSON.stringify({ source: input.source, content: input.texts.map((t) => ({ text: { text: t.text } })) });
  const headers = await authHeaders(auth, url, body, { 'content-type': 'application/json', accept: 'application/json' });
  const answer = await post(g, url, JSON.parse(body), headers, authSecrets(auth));
  if (!isObject(answer) || answer.action !== 'GUARDRAIL_INTERVENED') return ALLOW;
  const outputs = (Array.isArray(answer.outputs) ? answer.outputs : Array.isArray(answer.output) ? answer.output : [])
    .map((o) => (isObject(o) && typeof o.text === 'string' ? o.text : ''));
  const blocked = JSON.stringify(answer.assessments ?? []).includes('"BLOCKED"');
  if (!blocked && outputs.length === input.texts.length) return { action: 'mask', texts: outputs };
  return { action: 'block', message: `Violated guardrail policy (${g.guardrail_name}): ${outputs.join(' ').slice(0, 500) || 'blocked by the Bedrock guardrail'}` };
}

/** Lakera Guard (v2): a flagged conversation is blocked, unless `on_flagged: monitor`. */
async function lakera(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const key = p.api_key ?? envString(input.env, 'LAKERA_API_KEY');
  const base = p.api_base ?? envString(input.env, 'LAKERA_API_BASE') ?? 'https://api.lakera.ai';
  const answer = await post(g, upstreamUrl(base, 'v2/guard'), {
    messages: input.texts.map((t) => ({ role: t.role, content: t.text })), ...(p.project_id ? { project_id: p.project_id } : {}), breakdown: true,
  }, key ? { authorization: `Bearer ${key}` } : {}, [key]);
  if (!isObject(answer) || answer.flagged !== true || p.on_flagged === 'monitor') return ALLOW;
  const detectors = Array.isArray(answer.breakdown)
    ? answer.breakdown.filter((b) => isObject(b) && b.detected === true).map((b) => String((b as { detector_type?: unknown }).detector_type ?? '')).filter(Boolean)
    : [];
  return { action: 'block', message: `Violated guardrail policy (${g.guardrail_name}): flagged by Lakera Guard${detectors.length ? ` (${detectors.join(', ')})` : ''}` };
}

/** OpenAI's moderation model: a flagged text is blocked. */
async function moderation(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const key = p.api_key ?? envString(input.env, 'OPENAI_API_KEY');
  const base = p.api_base ?? 'https://api.openai.com/v1';
  // The input's user turns (a system prompt is the operator's own), or the answer.
  const texts = input.source === 'INPUT' ? input.texts.filter((t) => t.role === 'user').map((t) => t.text) : input.texts.map((t) => t.text);
  if (!texts.length) return ALLOW;
  const answer = await post(g, upstreamUrl(base, 'moderations'), { model: p.model ?? 'omni-moderation-latest', input: texts.join('\n') },
    key ? { authorization: `Bearer ${key}` } : {}, [key]);
  const result = isObject(answer) && Array.isArray(answer.results) && isObject(answer.results[0]) ? answer.results[0] : undefined;
  if (!result || result.flagged !== true) return ALLOW;
  const categories = isObject(result.categories) ? Object.entries(result.categories).filter(([, v]) => v === true).map(([k]) => k) : [];
  return { action: 'block', message: `Violated OpenAI moderation policy (${g.guardrail_name})${categories.length ? `: ${categories.join(', ')}` : ''}` };
}

/** Microsoft Presidio: each text analyzed; an entity configured BLOCK refuses the call, the others are anonymized (`<PERSON>`). */
async function presidio(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const analyzer = p.presidio_analyzer_api_base ?? envString(input.env, 'PRESIDIO_ANALYZER_API_BASE');
  const anonymizer = p.presidio_anonymizer_api_base ?? envString(input.env, 'PRESIDIO_ANONYMIZER_API_BASE');
  if (!analyzer || !anonymizer) throw unreachable(g, 'presidio_analyzer_api_base and presidio_anonymizer_api_base are needed');
  const entities = p.pii_entities_config ? Object.keys(p.pii_entities_config) : undefined;
  const thresholds = p.presidio_score_thresholds ?? {};
  let masked = false;
  const texts = await inTurns(input.texts, PRESIDIO_CONCURRENCY, async (slot) => {
    if (!slot.text.trim()) return slot.text;
    const found = await post(g, upstreamUrl(analyzer, 'analyze'), { text: slot.text, language: p.presidio_language ?? 'en', ...(entities ? { entities } : {}) }, {}, []);
    const results = (Array.isArray(found) ? found : []).filter((r): r is Record<string, unknown> => isObject(r)).filter((r) => {
      const min = thresholds[String(r.entity_type)] ?? thresholds.ALL;
      return min === undefined || (typeof r.score === 'number' && r.score >= min);
    });
    const blocked = results.find((r) => p.pii_entities_config?.[String(r.entity_type)] === 'BLOCK');
    if (blocked) throw new GatewayError(`Blocked entity detected: ${String(blocked.entity_type)} by Guardrail: ${g.guardrail_name}. This entity is not allowed to be used in this request.`, { status: 400, type: 'guardrail_violation' });
    if (!results.length) return slot.text;
    const anonymized = await post(g, upstreamUrl(anonymizer, 'anonymize'), { text: slot.text, analyzer_results: results }, {}, []);
    if (!isObject(anonymized) || typeof anonymized.text !== 'string') throw unreachable(g, 'an anonymizer answer without text');
    masked = true;
    return anonymized.text;
  });
  return masked ? { action: 'mask', texts } : ALLOW;
}

// A Worker holds six connections at once: Presidio's calls (one or two a text) take at most four.
const PRESIDIO_CONCURRENCY = 4;

/** `each` over `items`, at most `limit` at a time, results in order. */
async function inTurns<T, R>(items: readonly T[], limit: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await each(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** LiteLLM's generic guardrail API (`{api_base}/beta/litellm_basic_guardrail_api`): BLOCKED refuses, texts given back mask. */
async function generic(g: GuardrailConfig, input: GuardInput): Promise<Verdict> {
  const p = g.litellm_params;
  const base = p.api_base ?? envString(input.env, 'GENERIC_GUARDRAIL_API_BASE');
  if (!base) throw unreachable(g, 'no api_base configured');
  const answer = await post(g, upstreamUrl(base, 'beta/litellm_basic_guardrail_api'), {
    texts: input.texts.map((t) => t.text), input_type: input.source === 'INPUT' ? 'request' : 'response', litellm_call_id: input.callId,
  }, { ...(p.api_key ? { authorization: `Bearer ${p.api_key}` } : {}), ...(p.headers ?? {}) }, [p.api_key, ...Object.values(p.headers ?? {})]);
  if (!isObject(answer)) return ALLOW;
  if (answer.action === 'BLOCKED') return { action: 'block', message: `Violated guardrail policy (${g.guardrail_name}): ${String(answer.blocked_reason ?? 'blocked').slice(0, 500)}` };
  const texts = Array.isArray(answer.texts) && answer.texts.every((t) => typeof t === 'string') ? answer.texts as string[] : undefined;
  if (answer.action === 'GUARDRAIL_INTERVENED' && texts?.length === input.texts.length) return { action: 'mask', texts };
  return ALLOW;
}

export const SERVICES: Record<Params['guardrail'], (g: GuardrailConfig, input: GuardInput) => Promise<Verdict>> = {
  bedrock, lakera_v2: lakera, openai_moderation: moderation, presidio, generic_guardrail_api: generic,
};
