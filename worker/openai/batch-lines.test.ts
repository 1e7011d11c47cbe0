import { describe, expect, it } from 'vitest';
import { batchLineRewriter, checkBatchInput, cutLine, forEachLine } from './batch-lines.ts';

const encoder = new TextEncoder();
const request = (model: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/chat/completions', body: { model, messages: [] }, ...extra });

function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
}

/** The rewriter's output for the bytes fed in chunks of `size`. */
function rewritten(bytes: Uint8Array, size: number, model = 'gpt-4o-mini'): Uint8Array {
  const rewriter = batchLineRewriter(model);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...rewriter.push(bytes.slice(i, i + size)));
  out.push(...rewriter.end());
  return Uint8Array.from(out.flatMap((p) => [...p]));
}

describe('batchLineRewriter', () => {
  it('sets every request line\'s model to the deployment\'s, however the file is chunked, and leaves other lines byte for byte', async () => {
    const text = `${request('batch-a')}\n\ufeff${request('o1-pro')}\r\n  not json {\n${request('x')}`;
    const expected = `${request('gpt-4o-mini')}\n${request('gpt-4o-mini')}\r\n  not json {\n${request('gpt-4o-mini')}`;
    for (const size of [1, 3, 7, 64, 10_000]) expect(new TextDecoder().decode(rewritten(encoder.encode(text), size))).toBe(expected);
  });

  it('passes a file that is no batch (binary, other JSON) unchanged', () => {
    const binary = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256);
    expect(rewritten(binary, 333)).toEqual(binary);
    const json = encoder.encode('{"a": 1}\n{"custom_id": "x"}\n');
    expect(rewritten(json, 5)).toEqual(json);
  });
});

describe('checkBatchInput', () => {
  const check = (text: string, endpoint = '/v1/chat/completions') => checkBatchInput(streamOf(encoder.encode(text), 5), 'gpt-4o-mini', endpoint);

  it('takes a file of requests for the deployment\'s model and the batch\'s endpoint (with or without /v1)', async () => {
    await expect(check(`${request('gpt-4o-mini')}\n\n${request('gpt-4o-mini')}\n`)).resolves.toBeUndefined();
    await expect(check(`${request('gpt-4o-mini')}\n`, '/chat/completions')).resolves.toBeUndefined();
  });

  it('refuses, naming the line, another model, a line it cannot read strictly, another endpoint, and an empty file', async () => {
    await expect(check(`${request('gpt-4o-mini')}\n${request('o1-pro')}`)).rejects.toThrow('line 2 names model "o1-pro"');
    // Python's json reads NaN; a line only a lenient reader takes could name any model.
    await expect(check('{"custom_id":"r","method":"POST","url":"/v1/chat/completions","body":{"model":"o1-pro","n":NaN}}')).rejects.toThrow('line 1 is not JSON');
    await expect(check(request('gpt-4o-mini', { url: '/v1/embeddings' }))).rejects.toThrow('line 1 is not a POST to /v1/chat/completions');
    await expect(check('\n\n')).rejects.toThrow('holds no requests');
    await expect(check('{"custom_id":"r"}')).rejects.toThrow('line 1 is not a request');
  });

  it('refuses a line a provider could read as another request: a duplicate key, a CR inside it, bytes that are no UTF-8', async () => {
    await expect(check('{"custom_id":"r","method":"POST","url":"/v1/chat/completions","body":{"model":"o1-pro","model":"gpt-4o-mini"}}')).rejects.toThrow('is not as the gateway writes it');
    await expect(check(`{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"},"x":\r${request('o1-pro')}\r}`)).rejects.toThrow('line 1');
    const latin1 = Uint8Array.from([...encoder.encode(request('gpt-4o-mini').slice(0, -2)), 0xe9, ...encoder.encode('"}')]);
    await expect(checkBatchInput(streamOf(latin1, 4), 'gpt-4o-mini', '/v1/chat/completions')).rejects.toThrow('input_file_id');
    // A line as the gateway writes it, ending in CRLF, is fine.
    await expect(check(`${request('gpt-4o-mini')}\r\n`)).resolves.toBeUndefined();
  });

  it('refuses a line naming what the provider\'s account stores (a file, a response, a conversation)', async () => {
    const withFile = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] } });
    await expect(check(withFile)).rejects.toThrow('names a stored file');
    const followUp = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi', previous_response_id: 'resp_x' } });
    await expect(check(followUp, '/v1/responses')).rejects.toThrow('names a stored response');
    const container = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi', tools: [{ type: 'code_interpreter', container: { type: 'auto', file_ids: ['file-other'] } }] } });
    await expect(check(container, '/v1/responses')).rejects.toThrow('names a stored file');
    const reference = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: [{ type: 'item_reference', id: 'msg_x' }] } });
    await expect(check(reference, '/v1/responses')).rejects.toThrow('names a stored response item');
    // A stored container by `container_id`: a shell tool's container_reference, a replayed code_interpreter_call.
    const shell = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'ls', tools: [{ type: 'shell', environment: { type: 'container_reference', container_id: 'cntr_other' } }] } });
    await expect(check(shell, '/v1/responses')).rejects.toThrow('names a stored container');
    const replayed = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: [{ type: 'code_interpreter_call', id: 'ci_1', status: 'completed', code: 'print(1)', container_id: 'cntr_other', outputs: null }] } });
    await expect(check(replayed, '/v1/responses')).rejects.toThrow('names a stored container');
    // Words in a message, metadata, a schema's properties, a new container: no reference.
    const words = JSON.stringify({
      custom_id: 'r', method: 'POST', url: '/v1/chat/completions',
      body: {
        model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'what is a "file_id"? a conversation?' }], metadata: { conversation: 'c1' },
        response_format: { type: 'json_schema', json_schema: { name: 'f', schema: { type: 'object', properties: { file_id: { type: 'string' } } } } },
        tools: [{ type: 'function', function: { name: 'open', parameters: { type: 'object', properties: { conversation: { type: 'string' } } } } }],
      },
    });
    await expect(check(words)).resolves.toBeUndefined();
    const newContainer = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi', tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] } });
    await expect(check(newContainer, '/v1/responses')).resolves.toBeUndefined();
  });
});

describe('forEachLine', () => {
  it('gives a line too long to hold by its ends, where not strict: an embeddings answer keeps its status and usage', async () => {
    const vectors = '0.0123,'.repeat(5_000_000);
    const huge = `{"id":"req_1","custom_id":"e1","response":{"status_code":200,"body":{"object":"list","data":[{"embedding":[${vectors}0]}],"model":"text-embedding-3-large","usage":{"prompt_tokens":4096,"total_tokens":4096}}},"error":null}`;
    const got: { line: string; cut?: { head: string; tail: string } }[] = [];
    await forEachLine(streamOf(encoder.encode(`${huge}\n{"small":1}\n`), 1 << 20), (line, _n, cut) => got.push({ line, ...(cut ? { cut } : {}) }), false);
    expect(got).toHaveLength(2);
    expect(cutLine(got[0]!.cut!)).toEqual({ response: { status_code: 200, body: { usage: { prompt_tokens: 4096, total_tokens: 4096 } } } });
    expect(got[1]).toEqual({ line: '{"small":1}' });
    await expect(forEachLine(streamOf(encoder.encode(huge), 1 << 20), () => undefined)).rejects.toThrow('longer than 32 MB');
  });

  it('gives each line once, split across chunks, the last without its newline', async () => {
    const lines: [string, number][] = [];
    await forEachLine(streamOf(encoder.encode('a\nbé\n\nlast'), 2), (line, n) => lines.push([line, n]));
    expect(lines).toEqual([['a', 1], ['bé', 2], ['', 3], ['last', 4]]);
  });
});
