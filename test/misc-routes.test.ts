import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generalSettingsSchema } from '../worker/config/general-settings-schema.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's small public routes (LiteLLMRoutes.public_routes) on the gateway's base URL, with no key:
// GET /routes (every route served, the admin API's too), GET /test (the deprecated ping) and GET /
// (LiteLLM's API docs; Tollgate's are at /docs).

const UPSTREAM_SECRET = 'sk-upstream-never-listed-0077';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: ${UPSTREAM_SECRET}}
general_settings:
  public_routes: ["/routes", "/test"]
`,
  });
});
afterAll(async () => stack?.stop());

interface Route { path: string; methods: string[]; name: string }

describe('GET /routes', () => {
  it('lists the gateway\'s and the admin API\'s routes without a key, in LiteLLM\'s {routes:[{path, methods, name}]}', async () => {
    const res = await fetch(`${stack.url}/routes`);
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
    const { routes } = JSON.parse(text) as { routes: Route[] };
    const find = (path: string) => routes.find((r) => r.path === path);
    expect(find('/v1/chat/completions')).toEqual({ path: '/v1/chat/completions', methods: ['POST'], name: 'chatCompletions' });
    expect(find('/v1/models')?.methods).toEqual(['GET']);
    expect(find('/routes')?.methods).toEqual(['GET']);
    // The admin Worker's, through the same base URL.
    expect(find('/key/generate')?.methods).toEqual(['POST']);
    expect(find('/global/spend/reset')?.methods).toEqual(['POST']);
    // Each path once; no middleware, test hooks or config values.
    expect(new Set(routes.map((r) => r.path)).size).toBe(routes.length);
    expect(routes.some((r) => r.path === '*' || r.path.startsWith('/__tollgate'))).toBe(false);
    expect(text).not.toContain(UPSTREAM_SECRET);
    expect(text).not.toContain(TEST_MASTER_KEY);
  });
});

describe('GET /test and GET /', () => {
  it('answers /test with the route called, without a key; any other method is a 404 in the error envelope', async () => {
    const res = await fetch(`${stack.url}/test`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ route: '/test' });
    const post = await fetch(`${stack.url}/test`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(await post.json()).toMatchObject({ error: { type: 'not_found_error', code: '404' } });
  });

  it('sends / to the API docs', async () => {
    const res = await fetch(`${stack.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location') ?? '', stack.url).pathname).toBe('/docs');
    const docs = await fetch(`${stack.url}/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/key/generate');
  });
});

describe('general_settings.public_routes', () => {
  it('takes LiteLLM\'s own public routes /, /routes and /test', () => {
    expect(generalSettingsSchema.safeParse({ public_routes: ['/', '/routes', '/test'] }).success).toBe(true);
  });
});
