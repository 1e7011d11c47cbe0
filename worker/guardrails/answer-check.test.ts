import { describe, expect, it } from 'vitest';
import type { ProviderAnswer } from '../providers/types.ts';
import { guardedAnswer } from './answer-check.ts';
import type { GuardrailConfig } from './schema.ts';
import { SERVICES } from './services.ts';

// A guardrail service stood in for: it masks "Alice" wherever it is, and records what it read.
const read: string[][] = [];
SERVICES.generic_guardrail_api = async (_g, input) => {
  read.push(input.texts.map((t) => t.text));
  const texts = input.texts.map((t) => t.text.replaceAll('Alice', '<PERSON>'));
  return texts.some((t, i) => t !== input.texts[i]!.text) ? { action: 'mask', texts } : { action: 'allow' };
};
const guard = [{ guardrail_name: 'pii', litellm_params: { guardrail: 'generic_guardrail_api', mode: 'post_call' } }] as unknown as GuardrailConfig[];

function streamed(wire: string, size = 7): ProviderAnswer {
  const bytes = new TextEncoder().encode(wire);
  return {
    status: 200, contentType: 'text/event-stream', apiBase: '',
    body: new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size)); c.close(); } }),
    outcome: Promise.resolve({ usage: { promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: 0, responseText: 'Hi Alice' }),
  };
}
const text = async (a: ProviderAnswer) => new Response(a.body as ReadableStream).text();
const chunk = (delta: Record<string, unknown>, index = 0) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index, delta }] })}\n\n`;

describe('guardedAnswer on a held stream', () => {
  it('passes an unmasked stream on byte for byte', async () => {
    const wire = `${chunk({ role: 'assistant', content: '' })}${chunk({ content: 'Hello' })}data: [DONE]\n\n`;
    expect(await text((await guardedAnswer(streamed(wire), guard, {}, 'c', [], 5000)).answer)).toBe(wire);
  });

  it('masks each choice apart, and a tool call\'s arguments assembled from their pieces', async () => {
    read.length = 0;
    const wire = chunk({ content: 'Hi Al' }) + chunk({ content: 'ice' }) + chunk({ content: 'Bob' }, 1)
      + chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"who":"Al' } }] }) + chunk({ tool_calls: [{ index: 0, function: { arguments: 'ice"}' } }] }) + 'data: [DONE]\n\n';
    const { answer } = await guardedAnswer(streamed(wire), guard, {}, 'c', [], 5000);
    expect(read[0]).toEqual(['Hi Alice', 'Bob', '{"who":"Alice"}']);
    const out = await text(answer);
    expect(out).not.toContain('Alice');
    const events = out.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { index: number; delta: { content?: string; tool_calls?: { function: { arguments: string } }[] } }[] });
    expect(events.map((e) => e.choices[0]!.delta.content ?? null)).toEqual(['Hi <PERSON>', '', 'Bob', null, null]);
    expect(events.slice(3).map((e) => e.choices[0]!.delta.tool_calls![0]!.function.arguments).join('')).toBe('{"who":"<PERSON>"}');
    expect((await answer.outcome).responseText).not.toContain('Alice');
  });

  it('masks a Responses stream\'s deltas and every event that repeats the text whole', async () => {
    const ev = (e: Record<string, unknown>) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`;
    const wire = ev({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'Hi Ali' }) + ev({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'ce' })
      + ev({ type: 'response.output_text.done', output_index: 0, content_index: 0, text: 'Hi Alice' })
      + ev({ type: 'response.content_part.done', output_index: 0, content_index: 0, part: { type: 'output_text', text: 'Hi Alice' } })
      + ev({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', content: [{ type: 'output_text', text: 'Hi Alice' }] } })
      + ev({ type: 'response.completed', response: { output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hi Alice' }] }] } });
    const out = await text((await guardedAnswer(streamed(wire, 5), guard, {}, 'c', [], 5000)).answer);
    expect(out).not.toContain('Alice');
    expect(out.match(/<PERSON>/g)).toHaveLength(5);
    expect(out).toContain('event: response.output_text.delta\ndata: ');
  });

  it('gives up on a stream that does not end in time, and one too long to hold', async () => {
    const stalled: ProviderAnswer = { ...streamed(''), body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(chunk({ content: 'x' }))); } }) };
    await expect(guardedAnswer(stalled, guard, {}, 'c', [], 50)).rejects.toMatchObject({ status: 408 });
    const huge = streamed(chunk({ content: 'x'.repeat(5 * 1024 * 1024) }), 64 * 1024);
    await expect(guardedAnswer(huge, guard, {}, 'c', [], 5000)).rejects.toMatchObject({ status: 502 });
  });
});

describe('guardedAnswer: the kept tool calls of a masked answer', () => {
  const unmaskedCall = { id: 'call_a', type: 'function' as const, function: { name: 'find', arguments: '{"who":"Alice"}' } };
  const maskedCall = { ...unmaskedCall, function: { name: 'find', arguments: '{"who":"<PERSON>"}' } };
  const keeping = (answer: ProviderAnswer): ProviderAnswer => ({
    ...answer, outcome: answer.outcome.then((o) => ({ ...o, responseText: 'Hi Alice', responseToolCalls: [unmaskedCall] })),
  });
  const plain = (json: unknown): ProviderAnswer => ({ ...streamed(''), contentType: 'application/json', body: JSON.stringify(json) });
  const toolAnswer = { choices: [{ index: 0, message: { role: 'assistant', content: 'Hi Alice', tool_calls: [unmaskedCall] } }] };

  it('keeps a held stream\'s tool calls masked as the client got them', async () => {
    const wire = chunk({ content: 'Hi Alice' })
      + chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'find', arguments: '{"who":"Al' } }] })
      + chunk({ tool_calls: [{ index: 0, function: { arguments: 'ice"}' } }] }) + 'data: [DONE]\n\n';
    const { answer } = await guardedAnswer(keeping(streamed(wire)), guard, {}, 'c', [], 5000);
    await text(answer);
    expect((await answer.outcome).responseToolCalls).toEqual([maskedCall]);
  });

  it('keeps a plain answer\'s tool calls masked', async () => {
    const { answer } = await guardedAnswer(keeping(plain(toolAnswer)), guard, {}, 'c', [], 5000);
    const outcome = await answer.outcome;
    expect(outcome.responseText).not.toContain('Alice');
    expect(outcome.responseToolCalls).toEqual([maskedCall]);
  });

  it('keeps them masked where the answer was unmasked again for the client (output_parse_pii), plain or streamed', async () => {
    const tokens = new Map([['<PERSON>', 'Alice']]);
    const { answer } = await guardedAnswer(keeping(plain(toolAnswer)), guard, {}, 'c', [], 5000, false, tokens);
    expect(JSON.parse(answer.body as string).choices[0].message.tool_calls).toEqual([unmaskedCall]);
    expect(await answer.outcome).toMatchObject({ responseText: 'Hi <PERSON>', responseToolCalls: [maskedCall] });
    const wire = chunk({ content: 'Hi Alice' }) + chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'find', arguments: '{"who":"Alice"}' } }] }) + 'data: [DONE]\n\n';
    const streamedAnswer = (await guardedAnswer(keeping(streamed(wire)), guard, {}, 'c', [], 5000, false, tokens)).answer;
    expect(await text(streamedAnswer)).toContain('Alice');
    expect(await streamedAnswer.outcome).toMatchObject({ responseText: 'Hi <PERSON>', responseToolCalls: [maskedCall] });
  });
});

describe('guardedAnswer: the kept text of a masked answer', () => {
  const call = { id: 'call_a', type: 'function' as const, function: { name: 'find', arguments: '{"who":"Alice"}' } };
  const kept = (json: unknown, responseText: string | undefined): ProviderAnswer => ({
    ...streamed(''), contentType: 'application/json', body: JSON.stringify(json),
    outcome: Promise.resolve({ usage: { promptTokens: 1, completionTokens: 1, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: 0, ...(responseText !== undefined ? { responseText } : {}), responseToolCalls: [call] }),
  });

  it('is the first choice\'s content alone, without the tool calls\' arguments or another choice\'s text (plain)', async () => {
    const answer = { choices: [{ index: 0, message: { role: 'assistant', content: 'Hi Alice', tool_calls: [call] } }, { index: 1, message: { role: 'assistant', content: 'Bye Alice' } }] };
    const outcome = await (await guardedAnswer(kept(answer, 'Hi Alice'), guard, {}, 'c', [], 5000)).answer.outcome;
    expect(outcome.responseText).toBe('Hi <PERSON>');
    expect(outcome.responseToolCalls![0]!.function.arguments).toBe('{"who":"<PERSON>"}');
  });

  it('is the first choice\'s content alone (a held stream)', async () => {
    const wire = chunk({ content: 'Hi Al' }) + chunk({ content: 'ice' }) + chunk({ content: 'Bye Alice' }, 1)
      + chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'find', arguments: '{"who":"Alice"}' } }] }) + 'data: [DONE]\n\n';
    const { answer } = await guardedAnswer(streamed(wire), guard, {}, 'c', [], 5000);
    await text(answer);
    expect((await answer.outcome).responseText).toBe('Hi <PERSON>');
  });

  it('stays absent for an answer of tool calls only, plain or streamed', async () => {
    const plainAnswer = { choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] } }] };
    const plainOutcome = await (await guardedAnswer(kept(plainAnswer, undefined), guard, {}, 'c', [], 5000)).answer.outcome;
    expect(plainOutcome.responseText).toBeUndefined();
    expect(plainOutcome.responseToolCalls![0]!.function.arguments).toBe('{"who":"<PERSON>"}');
    const wire = chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'find', arguments: '{"who":"Alice"}' } }] }) + 'data: [DONE]\n\n';
    const held: ProviderAnswer = { ...streamed(wire), outcome: kept(plainAnswer, '').outcome };
    const { answer } = await guardedAnswer(held, guard, {}, 'c', [], 5000);
    await text(answer);
    const streamedOutcome = await answer.outcome;
    expect(streamedOutcome.responseText).toBe('');
    expect(streamedOutcome.responseToolCalls![0]!.function.arguments).toBe('{"who":"<PERSON>"}');
  });

  it('masks a legacy function_call\'s arguments in a stream', async () => {
    const wire = chunk({ content: null, function_call: { name: 'find', arguments: '{"who":"Al' } }) + chunk({ function_call: { arguments: 'ice"}' } }) + 'data: [DONE]\n\n';
    const held: ProviderAnswer = { ...streamed(wire), outcome: kept({}, '').outcome };
    const { answer } = await guardedAnswer(held, guard, {}, 'c', [], 5000);
    expect(await text(answer)).not.toContain('Alice');
    expect(await answer.outcome).toMatchObject({ responseText: '', responseToolCalls: [{ id: '', type: 'function', function: { name: 'find', arguments: '{"who":"<PERSON>"}' } }] });
  });
});
