import { boundedRead } from '../../db/bounded-read.ts';
import type { DatabaseEnv } from '../../db/client.ts';
import { type EmailEventSettings, readEmailEvents } from './event-settings.ts';

/** How long a read of the switches may take before it is given up (logged; the caller decides what then). */
const READ_TIMEOUT_MS = 5_000;

/** The email event switches as stored now (event-settings.ts), on a connection of its own. Rejects when the read fails or times out. */
export function storedEmailEvents(env: DatabaseEnv): Promise<EmailEventSettings> {
  return boundedRead(env, READ_TIMEOUT_MS, readEmailEvents);
}
