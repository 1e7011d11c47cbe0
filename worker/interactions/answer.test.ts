import { describe, expect, it } from 'vitest';
import type { DeploymentRef } from '../models/deployments.ts';
import { readAnswerOf } from '../passthrough/read-answer.ts';
import { shownAnswer } from './answer.ts';
import { UsageScanner } from './oversize.ts';

const deployment = { id: 'd1', group: 'g', provider: 'gemini', model: 'gemini-2.5-flash', params: {}, info: {} } as unknown as DeploymentRef;
const json = (text: string) => new Response(text, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(text.length) } });

describe('an interaction answer read once', () => {
  it('passes Google\'s own bytes on when no id changes, known to the pass-through call as read (not read again)', async () => {
    const text = '{ "object": "interaction",\n  "status": "completed", "usage": {"total_input_tokens": 3} }';
    const res = await shownAnswer(json(text), (id) => `shown-${id}`, deployment, undefined);
    const read = readAnswerOf(res)!;
    expect(new TextDecoder().decode(read.bytes)).toBe(text);
    expect(read.value).toMatchObject({ usage: { total_input_tokens: 3 } });
    expect(res.headers.get('content-length')).toBe(String(read.bytes.byteLength));
    expect(await res.text()).toBe(text);
  });

  it('encodes a rewritten answer once: the bytes sent are the bytes known, their length the one declared', async () => {
    const res = await shownAnswer(json('{"id":"v1_é","object":"interaction","status":"completed"}'), (id) => `shown-${id}`, deployment, undefined);
    const read = readAnswerOf(res)!;
    expect(read.value).toMatchObject({ id: 'shown-v1_é' });
    expect(res.headers.get('content-length')).toBe(String(read.bytes.byteLength));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(read.bytes);
  });
});

describe('the usage of an answer too large to hold', () => {
  const body = '{"id":"v1_x","steps":[{"type":"model_output","usage":{"total_input_tokens":1},"text":"a \\"usage\\":{\\"total_input_tokens\\":7} }"}],'
    + '"usage":{"total_input_tokens":40,"total_output_tokens":9,"input_tokens_by_modality":[{"modality":"text","tokens":40}]},"status":"completed"}';

  it('is the top-level usage, however the text is cut, never one nested in a step or inside a string', () => {
    for (const size of [1, 3, 7, 64, body.length]) {
      const scanner = new UsageScanner();
      for (let i = 0; i < body.length; i += size) scanner.push(body.slice(i, i + size));
      expect(scanner.usage()).toMatchObject({ promptTokens: 40, completionTokens: 9, reported: true });
    }
  });

  it('is none when the answer names none', () => {
    const scanner = new UsageScanner();
    scanner.push('{"id":"v1_x","steps":[{"usage":{"total_input_tokens":1}}],"status":"completed"}');
    expect(scanner.usage()).toBeUndefined();
  });
});
