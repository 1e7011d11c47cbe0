/**
 * The email event switches (event-settings.ts) as the gateway's metrics shard sees them: read from Postgres only
 * when an email is due (never per request) and at most once per REREAD_MS, so a change through
 * `/email/event_settings` reaches the budget emails within a minute. An email due once they are that old waits for
 * the new read (at most db/refreshed.ts's 3 s). A read that fails or times out is logged and the last known
 * switches (LiteLLM's defaults before the first read) stand, unread again for a minute.
 */
import { Refreshed, type WaitUntil } from '../../db/refreshed.ts';
import { defaultEmailEvents, type EmailEventSettings } from './event-settings.ts';

export const REREAD_MS = 60_000;

/** A Durable Object runs what it starts to its end: its reads need no request's `waitUntil`. */
const IN_SHARD: WaitUntil = { waitUntil: () => undefined };

/** The switches, read by `read` (stored-events.ts in the shard) as above. */
export function cachedEmailEvents(read: () => Promise<EmailEventSettings>): () => Promise<EmailEventSettings> {
  const switches = new Refreshed(defaultEmailEvents(), 'general_settings.email_settings', read, REREAD_MS);
  // Before the first read lands (callers meanwhile share it) or once the switches are a minute old, a due email waits.
  return () => switches.current(IN_SHARD, (switches.loadedAt === 0 || Date.now() - switches.startedAt >= REREAD_MS) && !switches.backingOff);
}
