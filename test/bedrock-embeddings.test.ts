// Bedrock embeddings through the openai client: Titan (one InvokeModel a text) and Cohere (one for the batch).
import { describe, expect, it } from 'vitest';
import { fixture, useBedrockStack } from './support/bedrock-stack.ts';

const b = useBedrockStack();

describe('Bedrock embeddings', () => {
  it('Titan: one InvokeModel call per text, token counts added', async () => {
    b.fake.enqueue(b.euwest.reply({ kind: 'json', body: fixture('titan-embed.json') }), b.euwest.reply({ kind: 'json', body: fixture('titan-embed.json') }));
    const data = await b.client.embeddings.create({ model: 'titan', input: ['alpha', 'beta'], dimensions: 256 });
    expect(b.euwest.checks).toEqual([{ ok: true }, { ok: true }]);
    expect(b.fake.requests.map((r) => r.path)).toEqual(['/model/amazon.titan-embed-text-v2%3A0/invoke', '/model/amazon.titan-embed-text-v2%3A0/invoke']);
    expect(b.fake.requests.map((r) => r.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))))
      .toEqual([{ inputText: 'alpha', dimensions: 256 }, { inputText: 'beta', dimensions: 256 }]);
    expect(data.data.map((d) => [...d.embedding])).toEqual([[0.125, -0.5, 0.25, 0.0625], [0.125, -0.5, 0.25, 0.0625]]);
    expect(data.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
  });

  it('Cohere: one call for the batch, token count from the response header', async () => {
    b.fake.enqueue(b.euwest.reply({ kind: 'json', body: fixture('cohere-embed.json'), headers: { 'x-amzn-bedrock-input-token-count': '5' } }));
    const data = await b.client.embeddings.create({ model: 'cohere', input: ['alpha', 'beta gamma'], encoding_format: 'float' });
    expect(b.fake.requests[0]?.path).toBe('/model/cohere.embed-english-v3/invoke');
    expect(b.fake.requests[0]?.body).toEqual({ texts: ['alpha', 'beta gamma'], input_type: 'search_document' });
    expect(data).toEqual({
      object: 'list', model: 'cohere.embed-english-v3',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }, { object: 'embedding', index: 1, embedding: [0.4, 0.5, 0.6] }],
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
  });
});
