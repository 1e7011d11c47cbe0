import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeBatches, startFakeBatches } from '../fakes/openai-batches.ts';
import { adminClient } from './admin.ts';
import { sha256 } from './keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/**
 * What the Files and Batch API suites share: a fake of both APIs with two OpenAI accounts and an Azure
 * resource, the gateway in front of it, the official openai client, and a batch's input and output.
 */

export const INPUT = [1, 2].map((i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] } })).join('\n');
/** Two answered lines of 100 prompt and 20 completion tokens, and one the provider failed (not billed). */
export const OUTPUT = [
  ...[1, 2].map((i) => ({ id: `req_${i}`, custom_id: `r${i}`, response: { status_code: 200, request_id: `rq${i}`, body: { id: `chatcmpl-${i}`, object: 'chat.completion', model: 'gpt-4o-mini', usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } } }, error: null })),
  { id: 'req_3', custom_id: 'r3', response: { status_code: 500, request_id: 'rq3', body: { error: { message: 'boom' } } }, error: null },
];
/** At the deployment's prices (2e-6 and 8e-6 a token), halved for a batch. */
export const BATCH_COST = (200 * 2e-6 + 40 * 8e-6) / 2;

/** A fine-tune file of two chats. */
export const TRAINING = [
  { messages: [{ role: 'system', content: 'Clippy is sarcastic.' }, { role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris, obviously.' }] },
  { messages: [{ role: 'user', content: 'Who wrote Hamlet?' }, { role: 'assistant', content: 'Some guy called Shakespeare.' }] },
].map((line) => JSON.stringify(line)).join('\n');

/** A fine-tune file uploaded through the gateway into a model group's account. */
export const uploadTraining = async (openai: OpenAI, model: string, name = 'train.jsonl', content = TRAINING) =>
  openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'fine-tune', model } as unknown as OpenAI.FileCreateParams);

/** The API key an openai client was made with. */
export const apiKeyOf = (openai: OpenAI) => (openai as unknown as { apiKey: string }).apiKey;

/** The id's text (base64url behind its prefix). */
export const decoded = (id: string, prefix: string) => Buffer.from(id.slice(prefix.length), 'base64url').toString('utf8');

/**
 * Starts the fake and the gateway for one test file (in its beforeAll), and stops them after. `extraModels`
 * adds `model_list` entries of a suite's own (given the fake's url), leaving the other suites' config as it is.
 */
export function useBatchesStack(extraModels: (fakeUrl: string) => string = () => '') {
  const env = {} as { fake: FakeBatches; stack: TestStack; master: OpenAI };
  beforeAll(async () => {
    env.fake = await startFakeBatches();
    env.stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: batch-a
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${env.fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-a, input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
  - model_name: batch-a-cheap
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${env.fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-a-cheap, input_cost_per_token: 0, output_cost_per_token: 0, input_cost_per_query: 0.001}
  - model_name: batch-b
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${env.fake.url}/acct-b/v1", api_key: sk-acct-b-0002}
    model_info: {id: dep-b}
  - model_name: azure-batch
    litellm_params: {model: azure/my-batch-deployment, api_base: "${env.fake.url}/az", api_key: azure-upstream-0003, api_version: "2024-10-21"}
    model_info: {id: dep-az, base_model: gpt-4o-mini}
  - model_name: local-llama
    litellm_params: {model: hosted_vllm/llama, api_base: "${env.fake.url}/vllm/v1"}
${extraModels(env.fake.url)}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
      // The watchers first ask after 1 s (30 s otherwise).
      runtimeOnlyEnv: { TOLLGATE_LATER_WORK_POLL_MS: '1000' },
    });
    env.master = client(TEST_MASTER_KEY);
  });
  afterAll(async () => {
    await env.stack?.stop();
    await env.fake?.close();
  });
  beforeEach(() => env.fake.reset());

  const admin = adminClient(() => env.stack);
  /** The gateway through the openai client, with the key and headers given. */
  function client(apiKey: string, headers: Record<string, string> = {}): OpenAI {
    return new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
  }
  /** A new virtual key (POST /key/generate). */
  const newKey = async (body: Record<string, unknown>): Promise<string> => (await admin.generate(body)).key as string;
  /** What Postgres says the key has spent. */
  const keySpend = async (key: string): Promise<number> => Number((await admin.keyRow(sha256(key)))?.spend);
  /** Uploads the input through the gateway into a model group's account. */
  async function upload(openai: OpenAI, model: string) {
    // The SDK sends every field of the body as a form field: `model` routes, as LiteLLM's extra_body does.
    return openai.files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch', model } as unknown as OpenAI.FileCreateParams);
  }
  /** The last request the fake got on a path. */
  const lastUpstream = (path: RegExp) => env.fake.requests.filter((r) => path.test(r.path)).at(-1)!;
  return { env, admin, client, newKey, keySpend, upload, lastUpstream };
}
