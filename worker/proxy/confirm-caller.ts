import { checkKeyUse, unknownKey, type Who } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { keyPolicy } from '../limits/admission-answer.ts';
import { describeKey } from '../limits/key-store.ts';

/**
 * That a model call's key may call `path`, before a managed prompt's API is asked for it: the checks
 * authenticate() makes of a key (it exists, is not refused, blocked or expired, its allowed_routes and a
 * JWT-bound key's routes hold), from one read of the key's limiter. identify() only hashes a key; admission
 * holds the rest (its team's block, budgets, limits) later, before anything goes to a provider. The master
 * key, and a JWT's own caller (verified by identify, its entities checked by admission), need nothing here.
 */
export async function confirmCaller(env: GatewayEnv, who: Who, path: string): Promise<void> {
  if (who.master || (who.shown === 'JWT' && !who.mapped)) return;
  const { token, key } = await describeKey(env, who.token);
  if (!key?.exists) throw unknownKey(who.shown, who.token);
  checkKeyUse(keyPolicy(token, key, undefined), Date.now(), path, who.mapped === true);
}
