import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useFallbackRoutesStack } from './support/fallback-routes-stack.ts';
import { eventually } from './support/keys.ts';
import { failure } from './support/router-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

// LiteLLM's fallback management (/fallback), through the gateway to the admin Worker: a write edits LiteLLM_Config's
// router_settings row, and the gateway (with store_model_in_db) routes by it within seconds, no restart. (Router
// settings reads, callers' roles, group names and concurrent writes: router-settings-routes.test.ts.)

const { admin, ask, row, upstreams } = useFallbackRoutesStack();
let failing: FakeUpstream;
let healthy: FakeUpstream;
beforeEach(() => {
  ({ failing, healthy } = upstreams());
  failing.reset();
  healthy.reset();
  failing.setDefault(failure(500));
});

/** A chat call's status (the OpenAI client throws on an error: its status is kept). */
const statusOf = async (call: Promise<unknown>) => call.then(() => 200, (err: { status?: number }) => err.status ?? 0);
/** Waits until a call to group-a answers with `status` (the row's change has reached the gateway). */
const groupAAnswers = (status: number) => eventually(async () => (await statusOf(ask('group-a')) === status ? true : undefined), 20_000);

describe('POST /fallback', () => {
  it('stores the list in effect with the group\'s fallbacks in the row, read back by GET; the gateway then falls back', async () => {
    expect(await admin.call('/fallback/group-a')).toEqual({ status: 404, body: { error: expect.objectContaining({ message: "No general fallbacks configured for model 'group-a'", code: '404' }) } });
    expect(await admin.ok('/fallback/group-c')).toEqual({ model: 'group-c', fallback_models: ['group-b'], fallback_type: 'general' });
    expect(await statusOf(ask('group-a'))).toBe(500);

    expect(await admin.ok('/fallback', { model: 'group-a', fallback_models: ['group-b'] })).toEqual({
      model: 'group-a', fallback_models: ['group-b'], fallback_type: 'general', message: 'Fallback configuration created successfully',
    });
    // config.yaml's list comes with it (the row's list replaces config.yaml's); no other setting of config.yaml is copied.
    expect(await row()).toEqual({ fallbacks: [{ 'group-c': ['group-b'] }, { 'group-a': ['group-b'] }] });
    expect(await admin.ok('/fallback/group-a')).toEqual({ model: 'group-a', fallback_models: ['group-b'], fallback_type: 'general' });
    const [audit] = await admin.audits('router_settings');
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_Config', changed_by: 'master_key' });

    await groupAAnswers(200);
    failing.reset();
    failing.setDefault(failure(500));
    healthy.reset();
    expect((await ask('group-a')).response.status).toBe(200);
    expect(failing.requests).toHaveLength(1);
    expect(healthy.requests).toHaveLength(1);

    // Again for the same group: its entry is replaced in place; a DB model's group is a fallback too.
    expect((await admin.ok('/fallback', { model: 'group-a', fallback_models: ['db-group', 'group-b'] })).message).toBe('Fallback configuration updated successfully');
    expect((await row()).fallbacks).toEqual([{ 'group-c': ['group-b'] }, { 'group-a': ['db-group', 'group-b'] }]);
  }, 90_000);

  it('keeps each fallback type in its own list, config.yaml\'s unusable entries carried over as they are', async () => {
    const res = await admin.ok('/fallback', { model: 'group-c', fallback_models: ['group-a'], fallback_type: 'context_window' });
    expect(res).toMatchObject({ fallback_type: 'context_window', message: 'Fallback configuration created successfully' });
    expect((await row()).context_window_fallbacks).toEqual([{}, { 'group-b': [] }, { 'group-c': ['group-a'] }]);
    expect(await admin.ok('/fallback/group-c?fallback_type=context_window')).toEqual({ model: 'group-c', fallback_models: ['group-a'], fallback_type: 'context_window' });
    expect((await admin.call('/fallback/group-c?fallback_type=content_policy')).status).toBe(404);
    expect((await admin.ok('/fallback/group-c')).fallback_models).toEqual(['group-b']);
  });

  it('refuses bad input with a 4xx naming it, writing nothing', async () => {
    const before = await row();
    const audits = (await admin.audits('router_settings')).length;
    const refused = async (body: unknown, status: number, message: string | RegExp) => {
      const res = await admin.call('/fallback', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.message).toMatch(message);
    };
    await refused({ model: 'ghost', fallback_models: ['group-b'] }, 404, "Model 'ghost' not found in router");
    // A blocked DB model serves no calls, so its group is no fallback.
    await refused({ model: 'group-a', fallback_models: ['ghost', 'blocked-group', 'group-b'] }, 400, "Invalid fallback models: ['ghost', 'blocked-group']");
    await refused({ model: 'group-a', fallback_models: ['group-b', 'group-a'] }, 400, "Model 'group-a' cannot be its own fallback");
    await refused({ model: 'group-a', fallback_models: [] }, 422, /fallback_models must contain at least one model/);
    await refused({ model: 'group-a', fallback_models: ['group-b', 'group-b'] }, 422, /must not contain duplicates/);
    await refused({ model: 'group-a', fallback_models: Array.from({ length: 101 }, (_, i) => `g-${i}`) }, 422, /fallback_models must contain at most 100 models/);
    await refused({ model: 'group-a', fallback_models: ['group-b'], fallback_type: 'sometimes' }, 422, /fallback_type/);
    await refused({ model: '  ', fallback_models: ['group-b'] }, 422, /model must be a non-empty string/);
    await refused({ fallback_models: ['group-b'] }, 422, /model/);
    await refused('{"model": ', 400, /Invalid JSON/);
    expect((await admin.call('/fallback/group-a?fallback_type=sometimes')).status).toBe(422);
    expect((await admin.call('/fallback/group-a?fallback_type=sometimes', undefined, TEST_MASTER_KEY, { method: 'DELETE' })).status).toBe(422);
    expect(await row()).toEqual(before);
    expect(await admin.audits('router_settings')).toHaveLength(audits);
  });
});

describe('DELETE /fallback/{model}', () => {
  it('removes the group\'s fallbacks: GET answers 404 after and the gateway stops falling back; a second delete is a 404', async () => {
    const del = (model: string) => admin.call(`/fallback/${model}`, undefined, TEST_MASTER_KEY, { method: 'DELETE' });
    expect(await del('group-a')).toEqual({ status: 200, body: { model: 'group-a', fallback_type: 'general', message: 'Fallback configuration deleted successfully' } });
    expect((await admin.call('/fallback/group-a')).status).toBe(404);
    expect((await row()).fallbacks).toEqual([{ 'group-c': ['group-b'] }]);
    await groupAAnswers(500);

    const before = await row();
    const again = await del('group-a');
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe("No general fallbacks configured for model 'group-a'");
    expect(await row()).toEqual(before);

    // config.yaml's fallbacks go too: the row's empty list is laid over config.yaml's.
    expect((await del('group-c')).status).toBe(200);
    expect((await row()).fallbacks).toEqual([]);
    expect((await admin.call('/fallback/group-c')).status).toBe(404);
  }, 60_000);
});
