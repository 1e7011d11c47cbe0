// Stored interactions (worker/interactions/stored.ts, ids.ts) and the limits a create is held to: who may read,
// continue, cancel and delete an interaction, against a fake Google AI Studio on loopback.
import { describe, expect, it } from 'vitest';
import { googleErrorBody, interaction } from './fakes/google-interactions.ts';
import { seedKey, seedTeam } from './support/keys.ts';
import { GEMINI_KEY, useInteractionsStack } from './support/interactions-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const s = useInteractionsStack();
const call = (key: string, path: string, init?: { method?: string; body?: unknown }) => s.call(key, path, init);

describe('limits and budgets', () => {
  const generate = async (body: Record<string, unknown>) => {
    const res = await fetch(`${s.stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json() as { key: string }).key;
  };

  it('refuses a key over its budget, and one past its rpm_limit, before Google is called', async () => {
    const spent = await generate({ max_budget: 1, spend: 5 });
    const over = await call(spent, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } });
    expect(over.status).toBe(429);
    expect((await over.json() as { error: Record<string, unknown> }).error).toMatchObject({ type: 'budget_exceeded', code: '429' });
    expect(s.google.requests).toHaveLength(0);

    const limited = await generate({ rpm_limit: 1 });
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdLimited6', 'ok', { total_input_tokens: 1, total_output_tokens: 1 }) });
    expect((await call(limited, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } })).status).toBe(200);
    const second = await call(limited, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'hi' } });
    expect(second.status).toBe(429);
    expect(s.google.requests).toHaveLength(1);
  });
});

describe('stored interactions belong to the key that made them', () => {
  it('are shared by the keys of one team, through either cancel form', async () => {
    const teamId = `team-${Date.now()}`;
    await seedTeam(s.stack.db.url, { id: teamId });
    const first = await seedKey(s.stack.db.url, { teamId });
    const second = await seedKey(s.stack.db.url, { teamId });
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdTeam7', 'Hi.', { total_input_tokens: 3, total_output_tokens: 1 }) });
    const created = await (await call(first, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Hi' } })).json() as { id: string };
    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdTeam7', '', { total_input_tokens: 0, total_output_tokens: 0 }), status: 'cancelled' } });
    const cancelled = await call(second, `/v1beta/interactions/${created.id}:cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: created.id, status: 'cancelled' });
    expect(s.google.requests[1]).toMatchObject({ method: 'POST', path: '/v1beta/interactions/v1_ChdTeam7/cancel' });
  });

  it('reads, continues, cancels and deletes an interaction for its owner, at the deployment that stored it; another key finds nothing', async () => {
    const owner = await seedKey(s.stack.db.url);
    const stranger = await seedKey(s.stack.db.url);
    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdStored4', 'Hello.', { total_input_tokens: 10, total_output_tokens: 2 }) });
    const created = await (await call(owner, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'Hi' } })).json() as { id: string };
    s.google.reset();

    // Another key, a raw Google id, a forged id (the owner's own, at the real deployment, a signature the gateway did not make): not found, and Google is not asked.
    const signed = Buffer.from(created.id.slice('intr_'.length), 'base64url').toString('utf8');
    expect(signed).toMatch(/;interaction_id:v1_ChdStored4;owner:[^;]+;sig:[\w-]+$/);
    const forged = `intr_${Buffer.from(signed.replace(/;sig:([\w-]+)$/, (_m, sig: string) => `;sig:${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`)).toString('base64url')}`;
    for (const [key, id] of [[stranger, created.id], [owner, 'v1_ChdStored4'], [owner, forged]] as const) {
      const res = await call(key, `/v1beta/interactions/${id}`);
      expect(res.status).toBe(404);
      expect((await res.json() as { error: Record<string, unknown> }).error).toMatchObject({ type: 'not_found_error', code: '404' });
    }
    const follow = await call(stranger, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'And?', previous_interaction_id: created.id } });
    expect(follow.status).toBe(404);
    expect((await follow.json() as { error: Record<string, unknown> }).error).toMatchObject({ param: 'previous_interaction_id' });
    const deleted = await call(stranger, `/v1beta/interactions/${created.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(404);
    expect(s.google.requests).toHaveLength(0);

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdStored4', 'Hello.', { total_input_tokens: 10, total_output_tokens: 2 }) });
    const read = await call(owner, `/v1beta/interactions/${created.id}`);
    expect(read.status).toBe(200);
    expect((await read.json() as { id: string }).id).toBe(created.id);
    expect(s.google.requests[0]).toMatchObject({ method: 'GET', path: '/v1beta/interactions/v1_ChdStored4' });
    expect(s.google.requests[0]!.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(read.headers.get('x-litellm-model-group')).toBe('gemini-flash');

    s.google.enqueue({ kind: 'json', body: interaction('v1_ChdNext5', 'More.', { total_input_tokens: 20, total_output_tokens: 3 }, { previous_interaction_id: 'v1_ChdStored4' }) });
    const next = await call(owner, '/v1beta/interactions', { body: { model: 'gemini-flash', input: 'And?', previous_interaction_id: created.id } });
    expect(next.status).toBe(200);
    const nextBody = await next.json() as { id: string; previous_interaction_id: string };
    expect(s.google.requests[1]!.body).toMatchObject({ previous_interaction_id: 'v1_ChdStored4' });
    expect(nextBody.previous_interaction_id).toBe(created.id);
    expect(nextBody.id).toMatch(/^intr_/);

    s.google.enqueue({ kind: 'json', body: { ...interaction('v1_ChdNext5', '', { total_input_tokens: 0, total_output_tokens: 0 }), status: 'cancelled' } });
    const cancelled = await call(owner, `/v1beta/interactions/${nextBody.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: nextBody.id, status: 'cancelled' });
    expect(s.google.requests[2]).toMatchObject({ method: 'POST', path: '/v1beta/interactions/v1_ChdNext5/cancel' });

    s.google.enqueue({ kind: 'json', body: {} });
    const gone = await call(owner, `/interactions/${created.id}`, { method: 'DELETE' });
    expect(gone.status).toBe(200);
    expect(s.google.requests[3]).toMatchObject({ method: 'DELETE', path: '/v1beta/interactions/v1_ChdStored4' });

    // The master key reads any interaction the gateway gave out; Google's 404 for a deleted one comes back in the envelope.
    s.google.enqueue({ kind: 'error', status: 404, body: googleErrorBody(404, 'NOT_FOUND', 'Interaction not found.') });
    const master = await call(TEST_MASTER_KEY, `/v1beta/interactions/${created.id}`);
    expect(master.status).toBe(404);
    expect((await master.json() as { error: Record<string, unknown> }).error).toMatchObject({ code: '404' });
    expect(s.google.requests[4]).toMatchObject({ method: 'GET', path: '/v1beta/interactions/v1_ChdStored4' });
  });
});
