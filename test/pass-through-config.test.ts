// config.yaml's general_settings.pass_through_endpoints end to end (their validation: worker/config/validate-pass-through.test.ts).
import { describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { callId, usePassThroughStack } from './support/pass-through-stack.ts';

const p = usePassThroughStack();
const admin = adminClient(() => p.stack);

describe('general_settings.pass_through_endpoints', () => {
  it('calls the target with the operator\'s headers (os.environ/ inside a value), never the client\'s key, at cost_per_request', async () => {
    const key = await seedKey(p.stack.db.url);
    const res = await fetch(`${p.stack.url}/bria?seed=7`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"prompt":"a cat"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: [{ urls: ['https://img.test/1.png'] }] });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.04');
    const sent = p.target.requests[0]!;
    expect(sent.path).toBe('/v1/text-to-image');
    expect(sent.query).toEqual({ model_version: '3', seed: '7' });
    expect(sent.headers.authorization).toBe('Bearer bria-secret-0003');
    expect(sent.rawBody).toBe('{"prompt":"a cat"}');
    expect(JSON.stringify(sent.headers)).not.toContain(key);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(res.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', model_group: '/bria', api_key: sha256(key), spend: 0.04 });
  });

  it('needs a key unless auth is false, and holds the key to its budget', async () => {
    const anonymous = await fetch(`${p.stack.url}/bria`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(p.target.requests).toHaveLength(0);
    const { key } = await admin.generate({ max_budget: 0.05 }) as { key: string };
    const post = () => fetch(`${p.stack.url}/bria`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
    expect((await post()).status).toBe(200);
    // Spent 0.04 of 0.05: one more call goes (LiteLLM's rule: refused once spend reaches the budget), then it is refused.
    const refusal = await eventually(async () => {
      const res = await post();
      return res.status === 429 ? await res.json() as { error: { type: string } } : undefined;
    });
    expect(refusal.error.type).toBe('budget_exceeded');
    expect(p.target.requests.length).toBeLessThanOrEqual(3);
  });

  it('serves a public endpoint\'s subpaths without a key, for its methods only', async () => {
    const res = await fetch(`${p.stack.url}/public-tools/search/web?q=cats`);
    expect(res.status).toBe(200);
    expect(p.target.requests[0]).toMatchObject({ method: 'GET', path: '/tools/search/web', query: { q: 'cats' } });
    expect((await fetch(`${p.stack.url}/public-tools/search`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${p.stack.url}/public-toolsX`)).status).toBe(404);
  });
});
