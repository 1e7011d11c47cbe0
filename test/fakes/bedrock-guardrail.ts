/**
 * A fake AWS Bedrock Guardrails ApplyGuardrail (`POST /guardrail/{id}/version/{version}/apply`) on loopback, in its
 * wire format: `{source, content: [{text: {text}}]}` in; `{usage, action, outputs, assessments, guardrailCoverage}`
 * out. A phone number is ANONYMIZED (`{PHONE}`, one output a content item); the word "bomb" is BLOCKED by the
 * content policy (one output, the guardrail's blocked message); SILENT_BLOCK is BLOCKED with no output; anything else is NONE. A Bedrock API key
 * (`Authorization: Bearer`) other than KEY is refused as AWS refuses it.
 */
import type { ServerResponse } from 'node:http';
import type { RecordedRequest } from './upstream.ts';

export const BEDROCK_GUARDRAIL_KEY = 'bedrock-api-key-secret-0004';
export const PHONE = '412-555-1212';
/** What the guardrail answers in place of a blocked input or output (configured on the guardrail in AWS). */
export const BLOCKED_INPUT = 'Sorry, I cannot help with that request.';
export const BLOCKED_OUTPUT = 'Sorry, the model cannot answer this question.';
/** A word the guardrail blocks without any text of its own (`outputs: []`). */
export const SILENT_BLOCK = 'grenade';
const PATH = /\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The handler, for startFakeUpstream's `handler` behaviour. */
export function bedrockGuardrail(request: RecordedRequest, res: ServerResponse): void {
  if (!PATH.test(request.path)) return json(res, 404, { message: 'Not found' });
  if (request.headers.authorization !== `Bearer ${BEDROCK_GUARDRAIL_KEY}`) return json(res, 403, { message: 'Authentication failed: Please provide a valid API key' });
  const body = request.body as { source?: string; content?: { text?: { text?: string } }[] };
  if (body.source !== 'INPUT' && body.source !== 'OUTPUT') return json(res, 400, { message: '1 validation error detected: Value at \'source\' failed to satisfy constraint' });
  const texts = (body.content ?? []).map((c) => c.text?.text ?? '');
  const usage = { topicPolicyUnits: 0, contentPolicyUnits: texts.length, wordPolicyUnits: 0, sensitiveInformationPolicyUnits: texts.length, sensitiveInformationPolicyFreeUnits: 0, contextualGroundingPolicyUnits: 0 };
  const coverage = { textCharacters: { guarded: texts.join('').length, total: texts.join('').length } };
  if (texts.some((t) => /\bbomb\b/i.test(t))) {
    return json(res, 200, {
      usage, action: 'GUARDRAIL_INTERVENED', actionReason: 'Guardrail blocked.',
      outputs: [{ text: body.source === 'INPUT' ? BLOCKED_INPUT : BLOCKED_OUTPUT }],
      assessments: [{ contentPolicy: { filters: [{ type: 'VIOLENCE', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED', detected: true }] } }],
      guardrailCoverage: coverage,
    });
  }
  // A block whose guardrail has no blocked message of its own: no outputs.
  if (texts.some((t) => t.includes(SILENT_BLOCK))) {
    return json(res, 200, {
      usage, action: 'GUARDRAIL_INTERVENED', actionReason: 'Guardrail blocked.', outputs: [],
      assessments: [{ wordPolicy: { customWords: [{ match: SILENT_BLOCK, action: 'BLOCKED', detected: true }] } }], guardrailCoverage: coverage,
    });
  }
  if (texts.some((t) => t.includes(PHONE))) {
    return json(res, 200, {
      usage, action: 'GUARDRAIL_INTERVENED', actionReason: 'Guardrail masked.',
      outputs: texts.map((t) => ({ text: t.split(PHONE).join('{PHONE}') })),
      assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'PHONE', match: PHONE, action: 'ANONYMIZED', detected: true }] } }],
      guardrailCoverage: coverage,
    });
  }
  json(res, 200, { usage, action: 'NONE', actionReason: 'No action.', outputs: [], assessments: [{}], guardrailCoverage: coverage });
}
