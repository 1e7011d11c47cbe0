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
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { litellmConfig } from '../../drizzle/schema/admin.ts';
import { GatewayError } from '../../worker/errors.ts';
import {
  defaultEmailEvents, EMAIL_EVENTS, type EmailEventSettings, emailEventsOf, eventSettingsList, GENERAL_SETTINGS_ROW, generalSettingsOf, readEmailEvents,
} from '../../worker/telemetry/email/event-settings.ts';
import { writeAudit } from '../lib/audit.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
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

/** A general_settings row whose value is no mapping (not JSON, a list, a scalar); its value is not shown: it may hold secrets. */
const unreadableRow = () => new GatewayError(
  `LiteLLM_Config row "${GENERAL_SETTINGS_ROW}" is not a settings mapping (its param_value is neither an object nor an object's JSON): nothing was changed; fix or delete the row first`,
  { status: 500, type: 'internal_server_error' },
);

/**
 * Replaces the stored switches with `change` of the ones in effect, in one transaction with its audit row: the row
 * is created if missing and locked before it is read, so concurrent writes (of the switches or of the row's other
 * settings) apply one after the other and none is lost. A row whose value is no mapping is refused (a 500 naming
 * it), not overwritten.
 */
async function storeSwitches(c: AdminContext, change: (current: EmailEventSettings) => EmailEventSettings): Promise<void> {
  await c.get('db')().db.transaction(async (tx) => {
    await tx.insert(litellmConfig).values({ param_name: GENERAL_SETTINGS_ROW, param_value: {} }).onConflictDoNothing();
    const [row] = await tx.select({ value: litellmConfig.param_value }).from(litellmConfig).where(eq(litellmConfig.param_name, GENERAL_SETTINGS_ROW)).for('update');
    const settings = generalSettingsOf(row?.value);
    // Not a mapping: what LiteLLM (or a hand) wrote there is not ours to replace.
    if (!settings) throw unreadableRow();
    const before = emailEventsOf(row?.value);
    const after = change(before);
    await tx.update(litellmConfig).set({ param_value: { ...settings, email_settings: after } }).where(eq(litellmConfig.param_name, GENERAL_SETTINGS_ROW));
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'updated', table: 'LiteLLM_Config', objectId: `${GENERAL_SETTINGS_ROW}.email_settings`,
      before: { email_settings: before }, after: { email_settings: after },
    });
  });
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
