/**
 * The gateway with Vertex AI deployments (Gemini, embeddings, Claude, and one whose service account key the
 * token endpoint does not know) on a fake Vertex API and a fake Google token endpoint, for the Vertex
 * suites (vertex, vertex-pass-through). Registers its own hooks; the API fake is reset before each test.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { fakeTokenEndpoint, testServiceAccount } from '../fakes/google.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

export const read = (name: string) => readFileSync(new URL(`../fixtures/vertex/${name}`, import.meta.url), 'utf8');
export const json = (name: string) => JSON.parse(read(name)) as unknown;
export const lines = (name: string) => read(name).trim().split('\n');
/** The SSE text cut into pieces of `size` characters, so events arrive split. */
export const pieces = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

export const GEMINI_PATH = '/v1/projects/tollgate-test-project/locations/europe-west4/publishers/google/models/gemini-2.0-flash-001';

export function useVertexStack() {
  let api: FakeUpstream;
  let oauth: FakeUpstream;
  let stack: TestStack;
  let client: OpenAI;
  let tokens: ReturnType<typeof fakeTokenEndpoint>;
  let strangerTokens: ReturnType<typeof fakeTokenEndpoint>;

  beforeAll(async () => {
    api = await startFakeUpstream();
    oauth = await startFakeUpstream();
    const account = testServiceAccount(`${oauth.url}/token`);
    // A key the token endpoint does not know: same account name, another key pair.
    const stranger = testServiceAccount(`${oauth.url}/token`);
    tokens = fakeTokenEndpoint(account, `${oauth.url}/token`);
    strangerTokens = fakeTokenEndpoint(account, `${oauth.url}/token`);
    oauth.setDefault(tokens.behaviour);
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: gemini-vertex
    litellm_params: {model: vertex_ai/gemini-2.0-flash-001, api_base: "${api.url}", vertex_project: tollgate-test-project, vertex_location: europe-west4, vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
  - model_name: vertex-embed
    litellm_params: {model: vertex_ai/text-embedding-005, api_base: "${api.url}", vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
  - model_name: wrong-key
    litellm_params: {model: vertex_ai/gemini-2.0-flash-001, api_base: "${api.url}", vertex_credentials: os.environ/TEST_VERTEX_STRANGER}
  - model_name: claude-vertex
    litellm_params: {model: "vertex_ai/claude-3-5-sonnet-v2@20241022", api_base: "${api.url}", vertex_location: us-east5, vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
`,
      env: { TEST_VERTEX_CREDENTIALS: account.json, TEST_VERTEX_STRANGER: stranger.json },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await api?.close();
    await oauth?.close();
  });
  beforeEach(() => api.reset());

  return {
    get api() { return api; },
    get oauth() { return oauth; },
    get stack() { return stack; },
    /** The official openai client, with the master key. */
    get client() { return client; },
    get tokens() { return tokens; },
    get strangerTokens() { return strangerTokens; },
  };
}
