/**
 * LiteLLM's email event settings: `GET /email/event_settings` (every event and whether its email goes),
 * `PATCH /email/event_settings` (`{settings: [{event, enabled}]}`: those switches changed, the others kept) and
 * `POST /email/event_settings/reset` (LiteLLM's defaults: every event on). Stored where LiteLLM keeps them,
 * LiteLLM_Config's `general_settings` row (worker/telemetry/email/event-settings.ts), the row's other settings
 * untouched. The admin Worker's key and invitation emails read them at each send (email/events.ts), the gateway's
 * budget emails within a minute (its metrics shard's cache). A switch turns an email off for every user, so only
 * proxy admins change them; admin readers (proxy admins and their viewers) read them.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import {
  defaultEmailEvents, EMAIL_EVENTS, type EmailEventSettings, emailEventsOf, eventSettingsList, GENERAL_SETTINGS_ROW, readEmailEvents,
} from '../../worker/telemetry/email/event-settings.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import { updateConfigRow } from '../lib/config-row.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { parseBody } from '../lib/validation.ts';

export const emailSettingsRoutes = new Hono<AdminBindings>();

const updateBody = z.object({
  settings: z.array(z.object({
    event: z.enum(EMAIL_EVENTS, { error: `expected one of ${EMAIL_EVENTS.map((e) => `"${e}"`).join(', ')}` }),
    enabled: z.boolean({ error: 'expected true or false' }),
  }), { error: 'expected a list of {event, enabled}' }).max(100, 'at most 100 settings'),
});

/**
 * Replaces the stored switches with `change` of the ones in effect, the row's other settings kept, in one
 * transaction with its audit row (lib/config-row.ts: concurrent writes apply one after the other; a row whose value
 * is no mapping is refused, a 500 naming it).
 */
async function storeSwitches(c: AdminContext, change: (current: EmailEventSettings) => EmailEventSettings): Promise<void> {
  await updateConfigRow(
    c,
    GENERAL_SETTINGS_ROW,
    (settings) => ({ ...settings, email_settings: change(emailEventsOf(settings)) }),
    (before, after) => ({ objectId: `${GENERAL_SETTINGS_ROW}.email_settings`, before: { email_settings: emailEventsOf(before) }, after: { email_settings: after.email_settings } }),
  );
}

describeRoute({ method: 'get', path: '/email/event_settings', summary: 'Every email event and whether its email is sent', tag: 'email' });
emailSettingsRoutes.get('/email/event_settings', async (c) => {
  requireAdminReader(c, 'read email event settings');
  return c.json({ settings: eventSettingsList(await readEmailEvents(c.get('db')().pool)) });
});

describeRoute({ method: 'patch', path: '/email/event_settings', summary: 'Switch the emails of some events on or off; the others are kept', tag: 'email', body: updateBody });
emailSettingsRoutes.patch('/email/event_settings', async (c) => {
  requireProxyAdmin(c, 'update email event settings');
  const body = await parseBody(c, updateBody);
  await storeSwitches(c, (current) => ({ ...current, ...Object.fromEntries(body.settings.map((s) => [s.event, s.enabled])) }));
  return c.json({ message: 'Email event settings updated successfully' });
});

describeRoute({ method: 'post', path: '/email/event_settings/reset', summary: "Every email event back to LiteLLM's default (on)", tag: 'email' });
emailSettingsRoutes.post('/email/event_settings/reset', async (c) => {
  requireProxyAdmin(c, 'reset email event settings');
  await storeSwitches(c, defaultEmailEvents);
  return c.json({ message: 'Email event settings reset to defaults' });
});
