import { describe, expect, it } from 'vitest';
import { chatRequestSchema, parseRequest } from './request-schemas.ts';

const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
const VALUES: unknown[] = [undefined, null, '', 'x', 0, -1, 1, 2, 1.5, 2.5, 129, true, false, [], {}, ['a'], [1], { include_usage: true }, { include_usage: 'yes' }];
const MESSAGES: unknown[] = [
  [], [{}], [null], ['hi'], [[]], [{ role: 'user' }], [{ role: 'bad', content: 'x' }], [{ role: 'user', content: 1 }],
  [{ role: 'user', content: null }], [{ role: 'tool', content: 'x', tool_call_id: 't' }], [{ role: 'user', content: [{ type: 'text', text: 'x' }] }],
  [{ role: 'user', content: [{}] }], [{ role: 'user', content: [{ type: 1 }] }], [{ role: 'user', content: [null] }],
  [{ role: 'assistant', content: null, tool_calls: [] }, { role: 'developer', content: 'x' }], [{ role: 'user', content: 'x' }, 'y'],
];

describe('the chat body fast check', () => {
  it('agrees with chatRequestSchema on every field, valid or not, and returns what zod would', () => {
    const bodies: unknown[] = [base, null, [], 'x', {}, { messages: base.messages }, { ...base, extra: { any: 'thing' } }];
    for (const field of ['model', 'user', 'mock_response', 'metadata', 'tags', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'n']) {
      for (const value of VALUES) bodies.push({ ...base, [field]: value });
    }
    for (const messages of MESSAGES) bodies.push({ ...base, messages });
    for (const body of bodies) {
      const zod = chatRequestSchema.safeParse(body);
      const ours = parseRequest(chatRequestSchema, body);
      expect({ body, success: ours.success }).toEqual({ body, success: zod.success });
      if (ours.success && zod.success) expect(ours.data).toEqual(zod.data);
    }
  });

  it('takes a valid body as it is (no copy) and leaves an invalid one to zod, which words the error', () => {
    const body = { ...base, temperature: 0.7, stream: true, stream_options: { include_usage: true }, metadata: { a: 1 } };
    const ok = parseRequest(chatRequestSchema, body);
    expect(ok.success && ok.data).toBe(body);
    const bad = parseRequest(chatRequestSchema, { ...base, temperature: 3 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['temperature']);
  });
});
