// Google's Interactions API on Vertex AI deployments (worker/interactions/upstream.ts): the project's and
// location's collection, the service account's token, and Vertex's partner models refused.
import { describe, expect, it } from 'vitest';
import { interaction, interactionEvents } from './fakes/google-interactions.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { useVertexStack } from './support/vertex-stack.ts';

const v = useVertexStack();
const COLLECTION = '/v1beta1/projects/tollgate-test-project/locations/europe-west4/interactions';

const call = (key: string, path: string, body?: unknown) => fetch(`${v.stack.url}${path}`, {
  method: body === undefined ? 'GET' : 'POST',
  headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe('interactions on Vertex AI', () => {
  it('creates under the deployment\'s project and location with its service account\'s token, and reads back there', async () => {
    const key = await seedKey(v.stack.db.url);
    v.api.enqueue({ kind: 'sse', events: interactionEvents('v1_VertexOwn1', ['Bonjour.'], { total_input_tokens: 12, total_output_tokens: 3 }) });
    const res = await call(key, '/v1beta/interactions', { model: 'gemini-vertex', input: 'Say hello in French.', stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    const sent = v.api.requests[0]!;
    expect(sent).toMatchObject({ method: 'POST', path: COLLECTION });
    expect(sent.headers.authorization).toMatch(/^Bearer \S+/);
    expect(sent.headers.authorization).not.toContain(key);
    expect(sent.body).toMatchObject({ model: 'gemini-2.0-flash-001', stream: true });
    const id = /"id":"(intr_[^"]+)"/.exec(text)?.[1];
    expect(id).toBeDefined();
    const row = await eventually(() => spendLogRow(v.stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'acreate_interaction', model_group: 'gemini-vertex', prompt_tokens: 12, completion_tokens: 3, custom_llm_provider: 'vertex_ai' });

    v.api.enqueue({ kind: 'json', body: interaction('v1_VertexOwn1', 'Bonjour.', { total_input_tokens: 12, total_output_tokens: 3 }) });
    const read = await call(key, `/v1beta/interactions/${id}`);
    expect(read.status).toBe(200);
    expect((await read.json() as { id: string }).id).toBe(id);
    expect(v.api.requests[1]).toMatchObject({ method: 'GET', path: `${COLLECTION}/v1_VertexOwn1` });
  });

  it('keeps the service account\'s token out of an error that echoes it', async () => {
    const key = await seedKey(v.stack.db.url);
    let token = '';
    v.api.enqueue({
      kind: 'handler',
      handle: (req, res) => {
        token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 403, status: 'PERMISSION_DENIED', message: `Token ${token} lacks aiplatform.interactions.create.` } }));
      },
    });
    const res = await call(key, '/v1beta/interactions', { model: 'gemini-vertex', input: 'hi' });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(token.length).toBeGreaterThan(10);
    expect(text).toMatch(/lacks aiplatform/);
    expect(text).not.toContain(token);
  });

  it('refuses a group of Vertex AI\'s partner models, sending nothing', async () => {
    const key = await seedKey(v.stack.db.url);
    const res = await call(key, '/v1beta/interactions', { model: 'claude-vertex', input: 'hi' });
    expect(res.status).toBe(400);
    expect((await res.json() as { error: Record<string, unknown> }).error).toMatchObject({ param: 'model', code: '400' });
    expect(v.api.requests).toHaveLength(0);
  });
});
