import { describe, expect, it } from 'vitest';
import { batchLineRewriter } from './batch-lines.ts';
import { filterParts, multipartBoundary } from './multipart-filter.ts';

/** A real multipart body (as fetch writes one) of the fields, with its content type. */
async function encoded(fields: [string, string | Blob, string?][]): Promise<{ bytes: Uint8Array; type: string }> {
  const form = new FormData();
  for (const [name, value, filename] of fields) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, filename);
  }
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { bytes: new Uint8Array(await request.arrayBuffer()), type: request.headers.get('content-type')! };
}

/** Streams the bytes in chunks of `size` through the filter and reads the result back as a form. */
async function filtered(bytes: Uint8Array, type: string, size: number, drop: string[]): Promise<FormData> {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
  const out = filterParts(stream, multipartBoundary(type)!, { keeps: (name) => !drop.includes(name) });
  return await new Response(out, { headers: { 'content-type': type } }).formData();
}

describe('filterParts', () => {
  // File content that looks like a delimiter's start, split across chunks at every position.
  const content = 'line 1\r\n--not-the-boundary\r\n-\r\n--\r\nend';

  it('drops the named parts and passes the rest byte for byte, however the body is chunked', async () => {
    const { bytes, type } = await encoded([
      ['model', 'batch-a'], ['file', new Blob([content], { type: 'application/jsonl' }), 'input.jsonl'], ['purpose', 'batch'], ['custom_llm_provider', 'openai'],
    ]);
    for (const size of [1, 2, 3, 5, 7, 13, 64, bytes.length]) {
      const form = await filtered(bytes, type, size, ['model', 'custom_llm_provider']);
      expect([...form.keys()]).toEqual(['file', 'purpose']);
      const file = form.get('file') as File;
      expect(file.name).toBe('input.jsonl');
      expect(await file.text()).toBe(content);
      expect(form.get('purpose')).toBe('batch');
    }
  });

  it('keeps everything when nothing is to be dropped, and a body of dropped parts only is an empty form', async () => {
    const { bytes, type } = await encoded([['purpose', 'batch'], ['file', new Blob(['x']), 'a.jsonl']]);
    expect([...(await filtered(bytes, type, 4, [])).keys()]).toEqual(['purpose', 'file']);
    const only = await encoded([['model', 'm']]);
    expect([...(await filtered(only.bytes, only.type, 3, ['model'])).keys()]).toEqual([]);
  });

  it('errors the stream on a body cut short or not the multipart its boundary says', async () => {
    const { bytes, type } = await encoded([['file', new Blob([content]), 'a.jsonl']]);
    const read = (body: Uint8Array) => new Response(filterParts(new Response(body as Uint8Array<ArrayBuffer>).body!, multipartBoundary(type)!, { keeps: () => true })).arrayBuffer();
    await expect(read(bytes.slice(0, bytes.length - 20))).rejects.toThrow('multipart body ends inside a part');
    await expect(read(new TextEncoder().encode('just text'))).rejects.toThrow('no closing delimiter');
    expect(new Uint8Array(await read(bytes))).toEqual(bytes);
  });

  it('rewrites a part\'s lines on the way (the batch file), and tells why it failed: a body past its bound, one that is no multipart', async () => {
    const line = JSON.stringify({ custom_id: 'r', method: 'POST', url: '/v1/chat/completions', body: { model: 'x', messages: [] } });
    const { bytes, type } = await encoded([['purpose', 'batch'], ['file', new Blob([`${line}\n${line}`]), 'in.jsonl']]);
    for (const size of [3, 17, bytes.length]) {
      const stream = new Response(bytes as Uint8Array<ArrayBuffer>).body!.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          for (let i = 0; i < chunk.length; i += size) out.enqueue(chunk.slice(i, i + size));
        },
      }));
      const out = filterParts(stream, multipartBoundary(type)!, { keeps: () => true, rewrite: (name) => (name === 'file' ? batchLineRewriter('gpt-4o-mini') : undefined) });
      const form = await new Response(out, { headers: { 'content-type': type } }).formData();
      expect(form.get('purpose')).toBe('batch');
      expect((await (form.get('file') as File).text()).split('\n').map((l) => (JSON.parse(l) as { body: { model: string } }).body.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    }
    const told: Error[] = [];
    const read = (body: Uint8Array, maxBytes?: number) => new Response(filterParts(new Response(body as Uint8Array<ArrayBuffer>).body!, multipartBoundary(type)!, {
      keeps: () => true, failed: (err) => told.push(err), ...(maxBytes ? { maxBytes } : {}),
    })).arrayBuffer();
    await expect(read(bytes, 100)).rejects.toThrow('larger than 100 bytes');
    expect(told.at(-1)).toBeInstanceOf(RangeError);
    await expect(read(new TextEncoder().encode('just text'))).rejects.toThrow('no closing delimiter');
    expect(told.at(-1)).not.toBeInstanceOf(RangeError);
  });

  it('reads the boundary of a multipart/form-data type only', () => {
    expect(multipartBoundary('multipart/form-data; boundary=----abc123')).toBe('----abc123');
    expect(multipartBoundary('multipart/form-data; charset=utf-8; boundary="q b"')).toBe('q b');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary('multipart/form-data')).toBeUndefined();
  });
});
