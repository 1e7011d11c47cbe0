/**
 * Fake guardrail services on loopback, by path, speaking Lakera Guard's (`/lakera/v2/guard`: prompt attacks, and
 * email addresses as `pii/email` with their `payload` offsets), Presidio's
 * analyzer (`/analyzer/analyze`) and anonymizer (`/anonymizer/anonymize`, with its `items`) and OpenAI
 * moderation's (`/openai/moderations`) wire formats. `down` makes Lakera answer 503.
 */
import type { ServerResponse } from 'node:http';
import type { RecordedRequest } from './upstream.ts';

/** The PII the analyzer finds, and its entity type. */
export const PII: [string, string][] = [['John Smith', 'PERSON'], ['Smith Jones', 'PERSON'], ['4111 1111 1111 1111', 'CREDIT_CARD']];
/** A text holding this gets a finding past its end from the fake analyzer (a broken analyzer answer). */
export const OUT_OF_RANGE = 'presidio-out-of-range';

/** What the fake Lakera finds as PII (`pii/email`). */
const EMAIL = /[\w.+-]+@[\w-]+\.[\w.]+/g;

/** Presidio counts offsets in code points (Python's), not JavaScript's UTF-16 units. */
const points = (text: string, utf16: number) => Array.from(text.slice(0, utf16)).length;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A handler for startFakeUpstream's `handler` behaviour; `state.down` fails Lakera. */
export function guardrailServices(state: { down: boolean }) {
  return (request: RecordedRequest, res: ServerResponse): void => {
    const body = request.body as Record<string, unknown>;
    if (request.path === '/lakera/v2/guard') {
      if (state.down) return json(res, 503, { error: 'unavailable' });
      const attack = JSON.stringify(body.messages).toLowerCase().includes('ignore previous instructions');
      // PII: every email address, by message, in code points; `payload` (which holds the PII) only when asked for.
      const messages = Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : [];
      const payload = messages.flatMap((m, message_id) => [...String(m.content ?? '').matchAll(EMAIL)].map((e) => ({
        start: points(String(m.content), e.index), end: points(String(m.content), e.index) + Array.from(e[0]).length, text: e[0],
        detector_type: 'pii/email', labels: ['pii', 'pii/email'], message_id,
      })));
      const breakdown = [
        ...(attack ? [{ project_id: 'project-1', policy_id: 'policy-1', detector_id: 'd-1', detector_type: 'prompt_attack', detected: true, message_id: 0 }] : []),
        ...(payload.length ? [{ project_id: 'project-1', policy_id: 'policy-1', detector_id: 'd-2', detector_type: 'pii/email', detected: true, message_id: payload[0]!.message_id }] : []),
      ];
      return json(res, 200, { flagged: breakdown.length > 0, breakdown, ...(body.payload === true ? { payload } : {}) });
    }
    if (request.path === '/analyzer/analyze') {
      const text = String(body.text);
      const length = Array.from(text).length;
      if (text.includes(OUT_OF_RANGE)) return json(res, 200, [{ entity_type: 'PERSON', start: length - 2, end: length + 5, score: 0.9 }]);
      // Every occurrence, overlapping ones too, in code points, as Presidio reports them.
      return json(res, 200, PII.flatMap(([value, entity]) => [...text.matchAll(new RegExp(value, 'g'))].map((m) => ({ entity_type: entity, start: points(text, m.index), end: points(text, m.index) + Array.from(value).length, score: 0.9 }))));
    }
    if (request.path === '/anonymizer/anonymize') {
      // Code points, as Presidio's anonymizer slices them.
      let text = Array.from(String(body.text));
      const items: Record<string, unknown>[] = [];
      for (const r of [...(body.analyzer_results as { entity_type: string; start: number; end: number }[])].sort((a, b) => b.start - a.start)) {
        const token = `<${r.entity_type}>`;
        text = [...text.slice(0, r.start), token, ...text.slice(r.end)];
        items.push({ start: r.start, end: r.start + token.length, entity_type: r.entity_type, text: token, operator: 'replace' });
      }
      return json(res, 200, { text: text.join(''), items });
    }
    if (request.path === '/openai/moderations') {
      const flagged = String(body.input).includes('kill');
      return json(res, 200, { id: 'modr-1', model: body.model, results: [{ flagged, categories: { violence: flagged, hate: false } }] });
    }
    json(res, 404, { error: 'no such service' });
  };
}
