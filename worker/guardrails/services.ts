import type { DeploymentRef } from '../models/deployments.ts';
import { authHeaders, authSecrets, bedrockAuth } from '../providers/bedrock/auth.ts';
import { bedrockBase } from '../providers/bedrock/index.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { upstreamUrl } from '../providers/upstream-url.ts';
import type { GuardrailConfig } from './schema.ts';
import type { TextSlot } from './texts.ts';
import { isObject } from '../json.ts';
import { presidio } from './presidio.ts';
import { lakera } from './lakera.ts';
import { post, unreachable } from './service-call.ts';

/** What a guardrail says of some texts: let them through, refuse the call, or pass them masked (one text a slot, in order). */
export type Verdict = { action: 'allow' } | { action: 'block'; message: string } | { action: 'mask'; texts: string[] }
  // A block answered with the guardrail's own text instead of refused (Bedrock's `disable_exception_on_block`).
  | { action: 'answer'; message: string; text: string };

export interface GuardInput {
  source: 'INPUT' | 'OUTPUT';
  texts: TextSlot[];
  env: Record<string, unknown>;
  callId: string;
  /** The call's PII tokens (`<PERSON_1>` → what it replaced), filled by a Presidio guardrail with `output_parse_pii`. */
  piiTokens?: Map<string, string>;
}

const ALLOW: Verdict = { action: 'allow' };
/** What a Bedrock block says when the guardrail's answer has no text of its own. */
const BLOCKED_TEXT = 'blocked by the Bedrock guardrail';

type Params = GuardrailConfig['litellm_params'];

/**
 * AWS Bedrock Guardrails' ApplyGuardrail: blocked when an assessment says BLOCKED (answered with the guardrail's
 * `outputs` text instead with `disable_exception_on_block`, as LiteLLM's); anonymized texts are passed masked, one
 * output a text, as LiteLLM applies them whatever its `mask_request_content` / `mask_response_content`.
 */
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
  const said = outputs.join('') ? outputs : [BLOCKED_TEXT];
  const message = `Violated guardrail policy (${g.guardrail_name}): ${said.join(' ').slice(0, 500)}`;
  // Only a BLOCKED one is answered (with the 400's text where it gave none): anonymized texts Tollgate cannot map back to theirs are refused, never passed.
  return blocked && p.disable_exception_on_block === true ? { action: 'answer', message, text: said.join('') } : { action: 'block', message };
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
