/**
 * The gateway with a Gemini model group on a fake Google AI Studio speaking the Interactions API, and an
 * OpenAI group beside it, for the interactions suites (interactions, interactions-stored). Registers its own
 * hooks; the fake is reset before each test.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { startTestStack, type TestStack } from './stack.ts';

export const GEMINI_KEY = 'AIzaSyTEST-interactions-0123456789abcdef';
/** The environment's GEMINI_API_KEY, the key of the `gemini/*` wildcard group (which sets none of its own). */
export const ENV_GEMINI_KEY = 'AIzaSyENV-interactions-fedcba9876543210';

export function useInteractionsStack() {
  let google: FakeUpstream;
  let stack: TestStack;
  beforeAll(async () => {
    google = await startFakeUpstream();
    stack = await startTestStack({
      configYaml: `
model_list:
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "${google.url}", api_key: os.environ/TEST_GEMINI_KEY}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${google.url}/v1", api_key: sk-openai-upstream-0001}
  - model_name: "gemini/*"
    litellm_params: {model: "gemini/*", api_base: "${google.url}"}
    model_info: {id: gemini-wildcard}
router_settings:
  num_retries: 0
`,
      env: { TEST_GEMINI_KEY: GEMINI_KEY, GEMINI_API_KEY: ENV_GEMINI_KEY },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await google?.close();
  });
  beforeEach(() => google.reset());

  return {
    get google() { return google; },
    get stack() { return stack; },
    /** A call as Google's SDKs make it, the key as their API key (`x-goog-api-key`; none for '', the key then in the path's `?key=`). */
    call(key: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
      return fetch(`${stack.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { ...(key ? { 'x-goog-api-key': key } : {}), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    },
  };
}

export const callId = (res: Response) => res.headers.get('x-litellm-call-id') ?? '';
