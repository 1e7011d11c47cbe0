/**
 * A fake Anthropic Messages API on loopback: the scriptable fake upstream
 * (./upstream.ts) answering in Anthropic's wire format. Its default echoes the
 * last user turn; tests queue recorded fixtures (test/fixtures/anthropic/:
 * `<case>.json` answers and errors, `<case>.chunks.txt` streams with one
 * event payload per line) and assert on what it received.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { type Behaviour, type FakeUpstream, type RecordedRequest, startFakeUpstream } from './upstream.ts';
import { fakeId, messageText, words } from './openai-format.ts';
import { anthropicRefusal } from './anthropic-checks.ts';
import { answerSkills, type SkillStore } from './anthropic-skills.ts';

const FIXTURES = new URL('../fixtures/anthropic/', import.meta.url);

export function fixtureText(file: string): string {
  return readFileSync(new URL(file, FIXTURES), 'utf8');
}

/** `<name>.json`, parsed. */
export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(`${name}.json`)) as Record<string, unknown>;
}

/** `<name>.chunks.txt`: one event payload per line, exactly as Anthropic sends it. */
export function fixturePayloads(name: string): string[] {
  return fixtureText(`${name}.chunks.txt`).split('\n').filter((line) => line.trim());
}

/** Anthropic's SSE framing of one payload: `event: <type>` then `data: <payload>`. */
export function sseEvent(payload: string | Record<string, unknown>): string {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const { type } = JSON.parse(text) as { type: string };
  return `event: ${type}\ndata: ${text}\n\n`;
}

/** The whole stream of a fixture, as bytes on the wire would read. */
export function fixtureSse(name: string): string {
  return fixturePayloads(name).map(sseEvent).join('');
}

export function streamFixture(name: string, extra: Partial<Extract<Behaviour, { kind: 'sse' }>> = {}): Behaviour {
  return { kind: 'sse', events: fixturePayloads(name).map(sseEvent), headers: { 'request-id': fakeId('req_') }, ...extra };
}

export function jsonFixture(name: string): Behaviour {
  return { kind: 'json', body: fixtureJson(name), headers: { 'request-id': fakeId('req_') } };
}

export function errorFixture(name: string, status: number, headers: Record<string, string> = {}): Behaviour {
  return { kind: 'error', status, body: fixtureJson(name), headers };
}

/** Echo rule: the answer is `echo:` and the last user turn's words; input tokens are that turn's word count plus 3 per message. */
function echo(request: RecordedRequest, res: ServerResponse): void {
  const body = request.body as { model?: string; stream?: boolean; messages?: { role: string; content: unknown }[] };
  const messages = body.messages ?? [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const answer = ['echo:', ...words(messageText(lastUser?.content))];
  const inputTokens = messages.reduce((n, m) => n + words(messageText(m.content)).length + 3, 0);
  const id = fakeId('msg_');
  const model = body.model ?? 'claude-unknown';
  if (request.path !== '/v1/messages') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not Found' } }));
    return;
  }
  const refusal = anthropicRefusal(request.body as Record<string, unknown>);
  if (refusal) {
    res.writeHead(400, { 'content-type': 'application/json', 'request-id': fakeId('req_') });
    res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: refusal } }));
    return;
  }
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: answer.join(' ') }],
      stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: answer.length },
    }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const events: Record<string, unknown>[] = [
    { type: 'message_start', message: { id, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'ping' },
    ...answer.map((w, i) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: i ? ` ${w}` : w } })),
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: answer.length } },
    { type: 'message_stop' },
  ];
  res.end(events.map(sseEvent).join(''));
}

/** The fake, answering the Messages API by default and the Skills API (./anthropic-skills.ts) under `/v1/skills`. */
export async function startFakeAnthropic(): Promise<FakeUpstream & { skills: SkillStore }> {
  const skills: SkillStore = new Map();
  const handle = (request: RecordedRequest, res: ServerResponse) => (request.path.startsWith('/v1/skills') ? answerSkills(skills, request, res) : echo(request, res));
  return Object.assign(await startFakeUpstream({ default: { kind: 'handler', handle } }), { skills });
}
