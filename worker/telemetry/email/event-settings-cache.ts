/**
 * The email event switches (event-settings.ts) as the gateway's metrics shard sees them: read from Postgres only
 * when an email is due (never per request) and at most once per REREAD_MS, so a change through
 * `/email/event_settings` reaches the budget emails within a minute. An email due once they are that old waits for
 * the new read (bounded by the read's own timeout, stored-events.ts), callers meanwhile sharing it. A read that fails
 * or times out is logged and the last known switches (LiteLLM's defaults before the first read) stand, unread again
 * for a minute.
 */
import { log } from '../log.ts';
import { defaultEmailEvents, type EmailEventSettings } from './event-settings.ts';

export const REREAD_MS = 60_000;

/** The switches, read by `read` (stored-events.ts in the shard) as above. */
export function cachedEmailEvents(read: () => Promise<EmailEventSettings>): () => Promise<EmailEventSettings> {
  let switches = defaultEmailEvents();
  let readAt = -Infinity;
  let reading: Promise<EmailEventSettings> | undefined;
  const load = async () => {
    try {
      switches = await read();
    } catch (err) {
      log.error(`reading general_settings.email_settings failed, serving the last ones: ${err instanceof Error ? err.message : String(err)}`);
    }
    return switches;
  };
  return () => {
    if (reading || Date.now() - readAt < REREAD_MS) return reading ?? Promise.resolve(switches);
    readAt = Date.now();
    reading = load().finally(() => (reading = undefined));
    return reading;
  };
}
