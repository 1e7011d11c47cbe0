import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedEmailEvents, REREAD_MS } from './event-settings-cache.ts';
import { defaultEmailEvents, EMAIL_EVENTS, type EmailEventSettings, emailEventsOf, eventSettingsList, generalSettingsOf, readEmailEvents } from './event-settings.ts';

describe('email event switches (general_settings.email_settings)', () => {
  it('are LiteLLM\'s five events, all on by default, in its order', () => {
    expect(eventSettingsList(emailEventsOf(undefined))).toEqual([
      { event: 'Virtual Key Created', enabled: true },
      { event: 'New User Invitation', enabled: true },
      { event: 'Virtual Key Rotated', enabled: true },
      { event: 'Soft Budget Crossed', enabled: true },
      { event: 'Max Budget Alert', enabled: true },
    ]);
  });

  it('merge the stored booleans over the defaults, from an object or LiteLLM\'s JSON string, keeping names Tollgate does not know', () => {
    const stored = { store_model_in_db: true, email_settings: { 'Virtual Key Created': false, 'Max Budget Alert': 'no', 'Future Event': false } };
    for (const value of [stored, JSON.stringify(stored)]) {
      const merged = emailEventsOf(value);
      expect(merged['Virtual Key Created']).toBe(false);
      // Not a boolean: the default stands.
      expect(merged['Max Budget Alert']).toBe(true);
      expect(merged['Future Event']).toBe(false);
      expect(eventSettingsList(merged).map((s) => s.event)).toEqual([...EMAIL_EVENTS]);
    }
  });

  it('read anything but a mapping as no settings', () => {
    for (const value of [null, 'not json', '[1]', 42, ['x'], { email_settings: ['Virtual Key Created'] }]) {
      expect(emailEventsOf(value)).toEqual(defaultEmailEvents());
    }
    expect(generalSettingsOf({ a: 1 })).toEqual({ a: 1 });
    expect(generalSettingsOf('{"a":1}')).toEqual({ a: 1 });
  });

  it('take an absent or null row as empty settings, and anything else but a mapping as none (a write must not replace it)', () => {
    for (const value of [undefined, null, 'null']) expect(generalSettingsOf(value)).toEqual({});
    for (const value of ['not json', '"text"', '[1]', 42, true, ['x']]) expect(generalSettingsOf(value)).toBeUndefined();
  });

  it('are read from the general_settings row', async () => {
    const query = vi.fn(async () => ({ rows: [{ param_value: { email_settings: { 'New User Invitation': false } } }] }));
    const settings = await readEmailEvents({ query });
    expect(settings['New User Invitation']).toBe(false);
    expect(query).toHaveBeenCalledWith('SELECT param_value FROM "LiteLLM_Config" WHERE param_name = $1', ['general_settings']);
    expect(await readEmailEvents({ query: async () => ({ rows: [] }) })).toEqual(defaultEmailEvents());
  });
});

describe('the metrics shard\'s cached switches', () => {
  const off = () => ({ ...defaultEmailEvents(), 'Soft Budget Crossed': false });
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('read the row at most once a minute, the first read shared by concurrent callers, a stale one waited for', async () => {
    const read = vi.fn(async () => off());
    const current = cachedEmailEvents(read);
    const [a, b] = await Promise.all([current(), current()]);
    expect(read).toHaveBeenCalledTimes(1);
    expect(a['Soft Budget Crossed']).toBe(false);
    expect(b).toBe(a);
    vi.advanceTimersByTime(REREAD_MS - 1);
    await current();
    expect(read).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    read.mockImplementation(async () => defaultEmailEvents());
    expect((await current())['Soft Budget Crossed']).toBe(true);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('keep the defaults, then the last known switches, when a read fails, logged, and try again a minute later', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const read = vi.fn(async (): Promise<EmailEventSettings> => {
      throw new Error('timed out after 5000 ms');
    });
    const current = cachedEmailEvents(read);
    expect(await current()).toEqual(defaultEmailEvents());
    expect(errors.mock.calls.flat().join(' ')).toContain('reading general_settings.email_settings failed, serving the last ones: timed out after 5000 ms');
    vi.advanceTimersByTime(REREAD_MS - 1);
    await current();
    expect(read).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(1);
    read.mockImplementation(async () => off());
    expect((await current())['Soft Budget Crossed']).toBe(false);
    vi.advanceTimersByTime(REREAD_MS);
    read.mockImplementation(async () => {
      throw new Error('Connection terminated unexpectedly');
    });
    expect((await current())['Soft Budget Crossed']).toBe(false);
    expect(read).toHaveBeenCalledTimes(3);
  });
});
