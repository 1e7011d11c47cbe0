import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from './support/admin.ts';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// The public model hub on an isolate that has not yet read LiteLLM_Config's stored list (Postgres down or slow):
// never config.yaml's list (it may hold a group an admin withdrew), no wait per request, and the list once a read lands.

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
  - model_name: claude-arn
    litellm_params: {model: mock/claude-arn, mock_response: "pong"}
litellm_settings:
  public_model_groups: [claude-arn]
  public_model_groups_links: {Docs: "https://docs.example.invalid/start"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  store_model_in_db: true
`;

describe('a new isolate while the stored row cannot be read', () => {
  let fresh: TestStack;
  beforeAll(async () => {
    fresh = await startTestStack({ configYaml: CONFIG });
    // An admin withdrew config.yaml's groups; then the table becomes unreadable before the isolate's first read.
    await query(fresh.databaseUrl, `INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('litellm_settings', '{"public_model_groups": ["mock-gpt"], "public_model_groups_links": {}}')`);
    await query(fresh.databaseUrl, 'ALTER TABLE "LiteLLM_Config" RENAME TO "LiteLLM_Config_away"');
  });
  afterAll(async () => fresh?.stop());

  it('answers a 503 (never config.yaml\'s withdrawn list), waits only for the first read, then lists the stored groups once it reads', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${fresh.url}${path}`);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
    };
    const first = await get('/public/model_hub');
    expect(first.status, first.text).toBe(503);
    expect(JSON.parse(first.text)).toEqual({ error: { message: expect.stringContaining('not available yet'), type: 'service_unavailable', param: null, code: '503' } });
    expect(first.retryAfter).toBe('2');
    expect(first.text).not.toContain('claude-arn');
    const info = await get('/public/model_hub/info');
    expect(info.status).toBe(503);
    expect(info.text).not.toContain('docs.example.invalid');
    // Later requests do not wait for a read of their own (each used to wait ~500 ms for one).
    const started = Date.now();
    for (let i = 0; i < 6; i++) expect((await get('/public/model_hub')).status).toBe(503);
    // Bound loose enough for a loaded machine; six waits would take ~3 s.
    expect(Date.now() - started).toBeLessThan(2_500);

    await query(fresh.databaseUrl, 'ALTER TABLE "LiteLLM_Config_away" RENAME TO "LiteLLM_Config"');
    // A background read, at most every 2 s, picks the stored list up.
    const listed = await eventually(async () => {
      const res = await get('/public/model_hub');
      return res.status === 200 ? JSON.parse(res.text) as Json[] : undefined;
    }, 8_000);
    expect(listed.map((g) => g.model_group)).toEqual(['mock-gpt']);
    expect(JSON.parse((await get('/public/model_hub/info')).text).useful_links).toEqual({});
  });
});
