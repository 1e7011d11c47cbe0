import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEmailProviders, startFakeEmailProviders } from './fakes/email-providers.ts';
import { adminClient } from './support/admin.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { consoleLines } from './support/logger-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's /email/event_settings: per-event switches for the email callbacks' emails, stored in LiteLLM_Config's
// general_settings row (param_value.email_settings). The admin Worker's key and invitation emails and the gateway's
// budget emails go only while their event is on (LiteLLM's default: every event on).

const API_KEYS = { resend: 're_event_settings_0123456789', sendgrid: 'SG.unused-0123456789' };
let fake: FakeEmailProviders;
let stack: TestStack;
const admin = adminClient(() => stack);

beforeAll(async () => {
  fake = await startFakeEmailProviders(API_KEYS);
  stack = await startTestStack({
    // Each call costs $0.0625 (one output token).
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0, output_cost_per_token: 0.0625}
litellm_settings: {timezone: UTC, callbacks: ["resend_email"]}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  alerting: ["email"]
`,
    env: { RESEND_API_KEY: API_KEYS.resend, RESEND_API_BASE: fake.url, RESEND_FROM_EMAIL: 'ai@corp.example', PROXY_BASE_URL: 'https://gateway.example.com' },
  });
  for (const [id, email] of [['bo', 'bo@example.com'], ['eve', 'eve@example.com']]) {
    await admin.ok('/user/new', { user_id: id, user_email: email, auto_create_key: false });
  }
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

const EVENTS = ['Virtual Key Created', 'New User Invitation', 'Virtual Key Rotated', 'Soft Budget Crossed', 'Max Budget Alert'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const emailsTo = (to: string, subject: string) => fake.sent.filter((e) => e.to.includes(to) && e.subject === subject);
const arrived = (to: string, subject: string) => eventually(async () => emailsTo(to, subject)[0], 20_000);
const settingsRow = async () => (await admin.rows('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = $1', ['general_settings']))[0]?.param_value;
const patch = (settings: unknown, key?: string) => admin.call('/email/event_settings', settings === undefined ? undefined : { settings }, key, { method: 'PATCH' });
const switches = async () => Object.fromEntries((await admin.ok('/email/event_settings')).settings.map((s: { event: string; enabled: boolean }) => [s.event, s.enabled]));

describe('email event settings', () => {
  it('answers every event, on by default', async () => {
    expect(await admin.ok('/email/event_settings')).toEqual({ settings: EVENTS.map((event) => ({ event, enabled: true })) });
  });

  it('switches the key created email off, keeping the row\'s other settings, audited; the invitation and rotation still go', async () => {
    // A row as LiteLLM writes it (json.dumps: a jsonb string): other general settings and an event this version does not know.
    await admin.rows('INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ($1, to_jsonb($2::text))',
      ['general_settings', JSON.stringify({ alerting_threshold: 300, email_settings: { 'Future Event': false } })]);
    expect(typeof await settingsRow()).toBe('string');
    expect((await patch([{ event: 'Virtual Key Created', enabled: false }])).body).toEqual({ message: 'Email event settings updated successfully' });
    expect(await settingsRow()).toEqual({
      alerting_threshold: 300,
      email_settings: { 'Virtual Key Created': false, 'New User Invitation': true, 'Virtual Key Rotated': true, 'Soft Budget Crossed': true, 'Max Budget Alert': true, 'Future Event': false },
    });
    expect((await switches())['Virtual Key Created']).toBe(false);
    const [audit] = await admin.audits('general_settings.email_settings');
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_Config', changed_by: 'master_key' });
    expect(audit!.before_value.email_settings['Virtual Key Created']).toBe(true);
    expect(audit!.updated_values.email_settings['Virtual Key Created']).toBe(false);

    const lines = await consoleLines(async () => {
      const key = await admin.generate({ user_id: 'bo', key_alias: 'bo-off', send_invite_email: true });
      await admin.ok('/user/new', { user_id: 'ann', user_email: 'ann@example.com', send_invite_email: true, auto_create_key: false });
      await arrived('ann@example.com', 'LiteLLM: Welcome to LiteLLM Proxy');
      await admin.ok(`/key/${key.key}/regenerate`, {});
      await arrived('bo@example.com', 'LiteLLM: API Key Rotated');
      await sleep(1_000);
    });
    expect(emailsTo('bo@example.com', 'LiteLLM: API Key Created')).toEqual([]);
    expect(lines.join('\n')).toContain('email "LiteLLM: API Key Created" not sent: "Virtual Key Created" is switched off in /email/event_settings');
  });

  it('refuses an unknown event, a non-boolean enabled or a body without a list, changing nothing', async () => {
    const before = await settingsRow();
    const audits = (await admin.audits('general_settings.email_settings')).length;
    for (const settings of [[{ event: 'Key Deleted', enabled: false }], [{ event: 'Virtual Key Rotated', enabled: 'false' }], [{ event: 'Virtual Key Rotated' }], 'all', undefined]) {
      const res = await patch(settings);
      expect(res.status, JSON.stringify(settings)).toBe(422);
      expect(res.body.error).toMatchObject({ type: 'validation_error' });
    }
    expect((await patch([{ event: 'Key Deleted', enabled: false }])).body.error.message).toContain('expected one of "Virtual Key Created"');
    expect(await settingsRow()).toEqual(before);
    expect(await admin.audits('general_settings.email_settings')).toHaveLength(audits);
  });

  it('lets proxy admins change the switches, their viewers read them, and no one else', async () => {
    const user = await admin.ok('/user/new', { user_id: 'ned', user_role: 'internal_user' });
    const viewer = await admin.ok('/user/new', { user_id: 'vic', user_role: 'proxy_admin_viewer' });
    const before = await settingsRow();
    expect((await admin.call('/email/event_settings', undefined, user.key)).status).toBe(403);
    expect((await patch([{ event: 'Virtual Key Rotated', enabled: false }], user.key)).status).toBe(403);
    expect((await admin.call('/email/event_settings/reset', {}, user.key)).status).toBe(403);
    expect((await admin.call('/email/event_settings', undefined, viewer.key)).status).toBe(200);
    expect((await patch([{ event: 'Virtual Key Rotated', enabled: false }], viewer.key)).status).toBe(403);
    expect((await admin.call('/email/event_settings/reset', {}, viewer.key)).status).toBe(403);
    expect(await settingsRow()).toEqual(before);
  });

  it('applies concurrent changes of different events one after the other: none is lost', async () => {
    const events = ['Virtual Key Rotated', 'Soft Budget Crossed', 'Max Budget Alert'];
    for (let round = 0; round < 3; round++) {
      await admin.ok('/email/event_settings/reset', {});
      const answers = await Promise.all(events.map((event) => patch([{ event, enabled: false }])));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(await switches()).toMatchObject(Object.fromEntries(events.map((e) => [e, false])));
    }
  });

  it('refuses to write over a general_settings row that is not a settings mapping, changing nothing', async () => {
    const kept = await settingsRow();
    const audits = (await admin.audits('general_settings.email_settings')).length;
    for (const [sql, value] of [['to_jsonb($2::text)', 'master_key: sk-not-json'], ['$2::jsonb', '[1, 2]'], ['$2::jsonb', '42']] as const) {
      await admin.rows(`UPDATE "LiteLLM_Config" SET param_value = ${sql} WHERE param_name = $1`, ['general_settings', value]);
      const before = await settingsRow();
      const res = await patch([{ event: 'Virtual Key Rotated', enabled: false }]);
      expect(res.status, value).toBe(500);
      expect(res.body.error.message).toContain('LiteLLM_Config row "general_settings" is not a settings mapping');
      expect(res.body.error.message).not.toContain('sk-not-json');
      expect((await admin.call('/email/event_settings/reset', {})).status).toBe(500);
      expect(await settingsRow()).toEqual(before);
      // Read as no settings: every event on.
      expect(await switches()).toEqual(Object.fromEntries(EVENTS.map((e) => [e, true])));
    }
    expect(await admin.audits('general_settings.email_settings')).toHaveLength(audits);
    await admin.rows('UPDATE "LiteLLM_Config" SET param_value = $2 WHERE param_name = $1', ['general_settings', JSON.stringify(kept)]);
  });

  it('resets every event on, and the key created email goes again', async () => {
    expect(await admin.ok('/email/event_settings/reset', {})).toEqual({ message: 'Email event settings reset to defaults' });
    expect(await switches()).toEqual(Object.fromEntries(EVENTS.map((e) => [e, true])));
    expect(await settingsRow()).toEqual({ alerting_threshold: 300, email_settings: Object.fromEntries(EVENTS.map((e) => [e, true])) });
    const key = await admin.generate({ user_id: 'bo', key_alias: 'bo-on', send_invite_email: true });
    const email = await arrived('bo@example.com', 'LiteLLM: API Key Created');
    expect(email.html).toContain(key.key);
  });

  it('with the invitation off, /user/new sends none and writes no invitation link', async () => {
    await patch([{ event: 'New User Invitation', enabled: false }]);
    await admin.ok('/user/new', { user_id: 'cal', user_email: 'cal@example.com', send_invite_email: true, auto_create_key: false });
    await sleep(1_500);
    expect(fake.sent.filter((e) => e.to.includes('cal@example.com'))).toEqual([]);
    expect(await admin.rows('SELECT id FROM "LiteLLM_InvitationLink" WHERE user_id = $1', ['cal'])).toEqual([]);
    await admin.ok('/email/event_settings/reset', {});
  });

  it('with "Soft Budget Crossed" off, the gateway sends a key\'s max budget email but not its soft budget one', async () => {
    await patch([{ event: 'Soft Budget Crossed', enabled: false }]);
    const key = await seedKey(stack.db.url, { alias: 'eve-budget', userId: 'eve' });
    // Soft budget after 4 calls, 80% of the max budget after 16.
    await admin.rows('UPDATE "LiteLLM_VerificationToken" SET soft_budget = 0.25, max_budget = 1.25 WHERE token = $1', [sha256(key)]);
    for (let i = 0; i < 17; i++) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
      });
      expect(res.status).toBe(200);
    }
    await arrived('eve@example.com', 'LiteLLM: Max Budget Alert - 80% of Maximum Budget Reached');
    await sleep(1_000);
    expect(emailsTo('eve@example.com', 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $0.25')).toEqual([]);
  });
});
