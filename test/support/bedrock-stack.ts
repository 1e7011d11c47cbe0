/**
 * The gateway with Bedrock deployments on a fake Bedrock (signature-checking, per region), for the
 * Bedrock suites (bedrock, bedrock-embeddings): configured credentials, credentials from the
 * environment, a wrong secret, Titan and Cohere embeddings. Registers its own hooks.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { signedBedrock } from '../fakes/bedrock.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const fixture = <T = unknown>(name: string) => JSON.parse(readFileSync(new URL(`../fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as T;

export const CONFIGURED = { accessKeyId: 'AKIATESTCONFIGURED01', secretAccessKey: 'configured/Secret+0123456789abcdefghijkl', sessionToken: 'IQoJb3JpZ2luX2VjETESTsession/token+==' };
export const FROM_ENV = { accessKeyId: 'AKIATESTFROMENV00001', secretAccessKey: 'env/Secret+abcdefghijklmnop0123456789' };
export const CLAUDE = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
export const CLAUDE_PATH = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0';

const config = (upstream: string) => `
model_list:
  - model_name: claude
    litellm_params:
      model: "bedrock/${CLAUDE}"
      api_base: "${upstream}"
      aws_access_key_id: os.environ/TEST_AWS_KEY_ID
      aws_secret_access_key: os.environ/TEST_AWS_SECRET
      aws_session_token: os.environ/TEST_AWS_SESSION
      aws_region_name: us-east-1
  - model_name: llama
    litellm_params: {model: "bedrock/converse/meta.llama3-1-70b-instruct-v1:0", api_base: "${upstream}", aws_region_name: eu-west-1}
  - model_name: wrong-secret
    litellm_params: {model: "bedrock/${CLAUDE}", api_base: "${upstream}", aws_access_key_id: ${CONFIGURED.accessKeyId}, aws_secret_access_key: not-the-secret-at-all-0000, aws_session_token: os.environ/TEST_AWS_SESSION, aws_region_name: us-east-1}
  - model_name: titan
    litellm_params: {model: "bedrock/amazon.titan-embed-text-v2:0", api_base: "${upstream}", aws_region_name: eu-west-1}
  - model_name: cohere
    litellm_params: {model: "bedrock/cohere.embed-english-v3", api_base: "${upstream}", aws_region_name: eu-west-1}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
`;

export function useBedrockStack() {
  let fake: FakeUpstream;
  let stack: TestStack;
  let client: OpenAI;
  const useast = signedBedrock(CONFIGURED, 'us-east-1');
  const euwest = signedBedrock(FROM_ENV, 'eu-west-1');
  beforeAll(async () => {
    fake = await startFakeUpstream();
    stack = await startTestStack({
      configYaml: config(fake.url),
      env: {
        TEST_AWS_KEY_ID: CONFIGURED.accessKeyId, TEST_AWS_SECRET: CONFIGURED.secretAccessKey, TEST_AWS_SESSION: CONFIGURED.sessionToken,
        AWS_ACCESS_KEY_ID: FROM_ENV.accessKeyId, AWS_SECRET_ACCESS_KEY: FROM_ENV.secretAccessKey,
      },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
  });
  beforeEach(() => {
    fake.reset();
    useast.checks.length = 0;
    euwest.checks.length = 0;
  });

  return {
    useast, euwest,
    get fake() { return fake; },
    get stack() { return stack; },
    get client() { return client; },
  };
}
