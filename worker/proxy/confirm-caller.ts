import { checkUsable, unknownKey, type Who } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { LimiterKeyStore } from '../limits/key-store.ts';

/**
 * That a model call's key is one the gateway knows and may use, before the call makes anything else work
 * for it (a managed prompt's API, its caches). identify() only hashes a key; admission checks it later, for
 * the model a prompt may yet change. The master key and a JWT (verified by identify) need nothing more.
 */
export async function confirmCaller(env: GatewayEnv, who: Who): Promise<void> {
  if (who.master || who.shown === 'JWT') return;
  const policy = await new LimiterKeyStore(env).lookup(who.token);
  if (!policy) throw unknownKey(who.shown, who.token);
  checkUsable(policy, Date.now());
}
