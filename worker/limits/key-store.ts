import { authenticate, type Caller } from '../auth/authenticate.ts';
import type { KeyPolicy, KeyStore } from '../auth/key-policy.ts';
import type { GatewayState } from '../state.ts';
import type { GatewayEnv } from '../env.ts';
import { keyPolicy } from './admission-answer.ts';
import { limiter } from './local-leases.ts';
import type { AdmitResult, EntityView } from './entity-limiter.ts';

const view = (r: AdmitResult): EntityView | undefined => (r.ok === 'redirect' ? undefined : r.view);

/** An entity's view in its limiter, admitting nothing. */
export async function describeEntity(env: GatewayEnv, kind: 'key' | 'team' | 'user' | 'org', id: string): Promise<EntityView | undefined> {
  return view(await limiter(env, kind, id).describe(kind, id));
}

/** A key's view, following a regenerated key (more than once, if so) to the one that replaced it; and that key's hash. */
export async function describeKey(env: GatewayEnv, token: string): Promise<{ token: string; key: EntityView | undefined }> {
  let answer = await limiter(env, 'key', token).describe('key', token);
  let active = token;
  for (let hops = 0; answer.ok === 'redirect' && hops < 5; hops++) {
    active = answer.token;
    answer = await limiter(env, 'key', active).describe('key', active);
  }
  return { token: active, key: view(answer) };
}

/**
 * Key lookups for routes that read a key without admitting a model call
 * (`/v1/models`, the admin API): the key's limiter is the source of truth, so
 * there is no cache to go stale after a block, delete or rotation.
 */
export class LimiterKeyStore implements KeyStore {
  readonly #env: GatewayEnv;

  constructor(env: GatewayEnv) {
    this.#env = env;
  }

  async lookup(token: string): Promise<KeyPolicy | null> {
    const { token: active, key } = await describeKey(this.#env, token);
    if (!key?.exists) return null;
    const describe = async (kind: 'team' | 'user' | 'org', id: string | null) => (id ? describeEntity(this.#env, kind, id) : undefined);
    // As admission holds a key: a personal key to its user's model list, any key to its organization's.
    const [team, user] = await Promise.all([describe('team', key.teamId), key.teamId ? undefined : describe('user', key.userId)]);
    const org = await describe('org', key.organizationId ?? team?.organizationId ?? null);
    return keyPolicy(active, key, team, { user, org });
  }
}

/**
 * Who calls a route that is not a model call (`/v1/models`, `/health`, the admin API): the master key, or
 * a virtual key read from its limiter, held to its `allowed_routes`; the key found where LiteLLM looks
 * (`general_settings.litellm_key_header_name` included).
 */
export function authenticateRoute(c: { req: { raw: Request; path: string }; env: GatewayEnv }, state: Pick<GatewayState, 'masterKeyHash' | 'keyHeader' | 'jwt' | 'allowedIps'>): Promise<Caller> {
  return authenticate(c.req.raw.headers, { masterKeyHash: state.masterKeyHash, keyHeader: state.keyHeader, jwt: state.jwt, allowedIps: state.allowedIps, path: c.req.path, keys: new LimiterKeyStore(c.env) });
}
