// Guardrails on a Responses call that names the caller's own file: the gateway rewrites the body (the file's
// provider id) into a copy, and that copy must carry the masked texts. The official openai client through
// workerd, the fake OpenAI files/batches account on loopback, and the fake Presidio.
import { toFile } from 'openai';
import type OpenAI from 'openai';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { guardrailServices } from './fakes/guardrail-services.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { useBatchesStack } from './support/provider-objects.ts';

let guard: FakeUpstream;
beforeAll(async () => {
  guard = await startFakeUpstream({ default: { kind: 'handler', handle: guardrailServices({ down: false }) } });
});
afterAll(async () => {
  await guard?.close();
});

const { env, client, newKey } = useBatchesStack(() => `
guardrails:
  - guardrail_name: pii-mask
    litellm_params: {guardrail: presidio, mode: pre_call, presidio_analyzer_api_base: "${guard.url}/analyzer", presidio_anonymizer_api_base: "${guard.url}/anonymizer", pii_entities_config: {PERSON: MASK}}
`);

describe('guardrails on calls that name files', () => {
  it('sends the provider the masked instructions and input of a Responses call with an own input_file', async () => {
    const ann = client(await newKey({ models: ['batch-a'], user_id: 'ann-gf', metadata: { guardrails: ['pii-mask'] } }), { 'x-litellm-model': 'batch-a' });
    const file = await ann.files.create({ file: await toFile(Buffer.from('notes'), 'notes.txt'), purpose: 'user_data', model: 'batch-a' } as unknown as OpenAI.FileCreateParams);
    const upstreamId = [...env.fake.files.keys()].at(-1)!;
    await ann.responses.create({
      model: 'batch-a', instructions: 'You help John Smith.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Read this for John Smith' }, { type: 'input_file', file_id: file.id }] }],
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const sent = env.fake.requests.find((r) => r.path.endsWith('/responses'))!;
    expect(sent.json).toMatchObject({
      instructions: 'You help <PERSON>.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Read this for <PERSON>' }, { type: 'input_file', file_id: upstreamId }] }],
    });
    expect(JSON.stringify(sent.json)).not.toContain('John Smith');
  });
});
