// Vertex AI's own API through the gateway: /vertex_ai pass-through and Google's format on /v1beta/models
// for a Vertex Gemini group (the OpenAI-format calls: vertex.test.ts).
import { describe, expect, it } from 'vitest';
import { geminiSse } from './fakes/google.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { GEMINI_PATH, json, lines, useVertexStack } from './support/vertex-stack.ts';

const v = useVertexStack();

describe('/vertex_ai: Vertex AI\'s own API, passed through', () => {
  it('sends the v.client\'s path with the service account\'s token and the group\'s model, streams the events unchanged, and bills their usage', async () => {
    const key = await seedKey(v.stack.db.url);
    const wire = geminiSse(lines('stream-text.chunks.txt'));
    v.api.enqueue({ kind: 'sse', events: wire });
    const res = await fetch(`${v.stack.url}/vertex_ai${GEMINI_PATH.replace('gemini-2.0-flash-001', 'gemini-vertex')}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Capital?' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(wire.join(''));
    const sent = v.api.requests[0]!;
    expect(sent.path).toBe(`${GEMINI_PATH}:streamGenerateContent`);
    expect(sent.query).toEqual({ alt: 'sse' });
    expect(sent.headers.authorization).toMatch(/^Bearer ya29\.test-access-token-\d+$/);
    expect(JSON.stringify(sent)).not.toContain(key);
    expect(sent.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Capital?' }] }] });
    const row = await eventually(() => spendLogRow(v.stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', api_key: sha256(key), model_group: 'gemini-vertex', custom_llm_provider: 'vertex_ai', prompt_tokens: 7, completion_tokens: 12 });
  });

  it('refuses a path naming another Google Cloud project (who pays is the operator\'s choice)', async () => {
    const res = await fetch(`${v.stack.url}/vertex_ai${GEMINI_PATH.replace('tollgate-test-project', 'someone-elses-project').replace('gemini-2.0-flash-001', 'gemini-vertex')}:generateContent`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: '{"contents":[]}',
    });
    expect(res.status).toBe(400);
    expect(v.api.requests).toHaveLength(0);
  });
});

describe('Google\'s own format on /v1beta/models, for a Vertex AI Gemini group', () => {
  it('calls the deployment\'s own project, location and model with its access token', async () => {
    v.api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const res = await fetch(`${v.stack.url}/v1beta/models/gemini-vertex:generateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(json('generate-content-text.json'));
    expect(v.api.requests[0]?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(v.api.requests[0]?.headers.authorization).toMatch(/^Bearer ya29\.test-access-token-\d+$/);
    expect(v.api.requests[0]?.headers['x-goog-api-key']).toBeUndefined();
  });

  it('refuses a group of Claude on Vertex AI (Google\'s format is Gemini\'s)', async () => {
    const res = await fetch(`${v.stack.url}/v1beta/models/claude-vertex:generateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: '{"contents":[]}',
    });
    expect(res.status).toBe(400);
    expect(v.api.requests).toHaveLength(0);
  });
});
