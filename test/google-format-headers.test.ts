import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Which client headers Google's format (`/v1beta/models/{group}:generateContent`) sends Google: as on LiteLLM,
 * whose Google routes run its normal model call path, the body's type and what the client accepts, and the
 * client's `x-` headers only for a group `model_group_settings.forward_client_headers_to_llm_api` names (or all
 * with `general_settings.forward_client_headers_to_llm_api: true`). Never a credential, never `user-agent`.
 */

const generated = JSON.parse(readFileSync(new URL('./fixtures/vertex/generate-content-text.json', import.meta.url), 'utf8')) as unknown;
const GEMINI_KEY = 'AIzaSyTEST-google-headers-0123456789ab';

let api: FakeUpstream;
let stack: TestStack;
let key: string;

beforeAll(async () => {
  api = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gemini-plain
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${api.url}", api_key: os.environ/TEST_GEMINI_KEY}
  - model_name: gemini-tenant
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "${api.url}", api_key: os.environ/TEST_GEMINI_KEY}
router_settings:
  num_retries: 0
litellm_settings:
  model_group_settings:
    forward_client_headers_to_llm_api: [gemini-tenant]
`,
    env: { TEST_GEMINI_KEY: GEMINI_KEY },
  });
  key = await seedKey(stack.db.url);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await api?.close();
});
beforeEach(() => api.reset());

const CLIENT_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json',
  'user-agent': 'google-genai-sdk/1.0 gl-node/22',
  'x-tenant': 'acme',
  'x-goog-api-client': 'google-genai-sdk/1.0',
  'x-pass-x-smuggled': 'via-pass-prefix',
  cookie: 'session=client-secret',
};

const call = (group: string, headers: Record<string, string>) => fetch(`${stack.url}/v1beta/models/${group}:generateContent`, {
  method: 'POST', headers, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
});

describe("Google's format: the client headers Google gets", () => {
  it('sends only content-type and accept for a group not configured to forward, with the deployment\'s key and never the client\'s', async () => {
    api.enqueue({ kind: 'json', body: generated });
    const res = await call('gemini-plain', { ...CLIENT_HEADERS, 'x-goog-api-key': key });
    expect(res.status).toBe(200);
    const sent = api.requests[0]!;
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.accept).toBe('application/json');
    expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    for (const name of ['x-tenant', 'x-goog-api-client', 'x-smuggled', 'x-pass-x-smuggled', 'cookie']) expect(sent.headers[name], name).toBeUndefined();
    expect(sent.headers['user-agent'] ?? '').not.toContain('google-genai-sdk');
    expect(JSON.stringify(sent)).not.toContain(key);
  });

  it('sends the client\'s x- headers for a group model_group_settings names, and still no credential, cookie or user-agent', async () => {
    api.enqueue({ kind: 'json', body: generated });
    const res = await fetch(`${stack.url}/v1beta/models/gemini-tenant:generateContent?key=${key}`, {
      method: 'POST', headers: CLIENT_HEADERS, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
    });
    expect(res.status).toBe(200);
    const sent = api.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.headers['x-tenant']).toBe('acme');
    expect(sent.headers['x-goog-api-client']).toBe('google-genai-sdk/1.0');
    expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(sent.headers.cookie).toBeUndefined();
    // Pass-through's x-pass-NAME is not unwrapped here, nor sent verbatim.
    expect(sent.headers['x-pass-x-smuggled']).toBeUndefined();
    expect(sent.headers['x-smuggled']).toBeUndefined();
    expect(sent.headers['user-agent'] ?? '').not.toContain('google-genai-sdk');
    expect(sent.query.key).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain(key);
  });

  it('passes Google\'s refusal back to the client, having sent the same headers', async () => {
    api.enqueue({ kind: 'error', status: 400, body: { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } } });
    const res = await call('gemini-plain', { ...CLIENT_HEADERS, 'x-goog-api-key': key });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('Invalid JSON payload received.');
    expect(api.requests[0]!.headers['x-tenant']).toBeUndefined();
  });
});
