import { refreshLimiter } from './limits/client.ts';
import { runtimeConfig, type RuntimeConfig } from './config/runtime.ts';
import { type CredentialSet, credentialSet } from './config/credentials.ts';
import { hashKey } from './auth/secrets.ts';
import { buildCatalog, type ModelCatalog } from './models/deployments.ts';
import { JwtAuth } from './auth/jwt-identity.ts';
import { autoRegisterOptions } from './auth/jwt-auto-register-params.ts';
import { type AllowedIps, allowedIps } from './auth/client-ip.ts';
import { publicRouteSet, usePublicRoutes } from './auth/public-routes.ts';

export interface GatewayState extends RuntimeConfig {
  catalog: ModelCatalog;
  /** SHA-256 hex of the master key, computed once per isolate. */
  masterKeyHash: string | undefined;
  /** `general_settings.litellm_key_header_name`, lower-cased: where keys may come besides the usual headers. */
  keyHeader: string | undefined;
  /**
   * The key Responses API ids are signed with (response-ids.ts): derived from the master key itself (or
   * LITELLM_SALT_KEY), never from its hash, which is the master key's public token (metrics, spend logs).
   * '' without either: ids are then signed with a key anyone can compute (the README says so).
   */
  responseIdKey: string;
  /** config.yaml's credential_list by name (DB models may name these too). */
  credentials: CredentialSet;
  /** `enable_jwt_auth`: callers may present an OpenID provider's JWT (verified against `JWT_PUBLIC_KEY_URL`'s keys). */
  jwt: JwtAuth | undefined;
  /** `allowed_ips`: the addresses authenticated requests must come from. */
  allowedIps: AllowedIps | undefined;
}

let cached: { env: object; state: Promise<GatewayState> } | undefined;

/**
 * The isolate's view of the config: validated once against the Worker's env,
 * with the model catalog built from it. Every request after the first reads
 * it from memory.
 */
export function gatewayState(env: Record<string, unknown>): Promise<GatewayState> {
  if (cached?.env === env) return cached.state;
  const runtime = runtimeConfig(env);
  // general_settings.public_routes: read by every route's authentication when a request brings no key (auth/public-routes.ts).
  usePublicRoutes(publicRouteSet(runtime.config.general_settings.public_routes));
  const salt = typeof env.LITELLM_SALT_KEY === 'string' && env.LITELLM_SALT_KEY ? env.LITELLM_SALT_KEY : runtime.masterKey;
  const state = Promise.all([
    buildCatalog(runtime.config),
    runtime.masterKey ? hashKey(runtime.masterKey) : undefined,
    salt ? hashKey(`tollgate:response-ids\n${salt}`) : '',
  ]).then(([catalog, masterKeyHash, responseIdKey]) => ({
    ...runtime, catalog, masterKeyHash, responseIdKey, credentials: credentialSet(runtime.config.credential_list), keyHeader: runtime.config.general_settings.litellm_key_header_name?.toLowerCase() || undefined,
    jwt: runtime.config.general_settings.enable_jwt_auth ? new JwtAuth(runtime.config.general_settings.litellm_jwtauth ?? {}, env, runtime.config.general_settings.role_permissions, (kind, id) => refreshLimiter(env, kind, id), autoRegisterOptions(runtime.config.litellm_settings)) : undefined,
    allowedIps: allowedIps(runtime.config.general_settings.allowed_ips, runtime.config.general_settings.use_x_forwarded_for, env.TOLLGATE_LOCAL_RUNTIME !== '1'),
    clientSource: { useForwardedFor: runtime.config.general_settings.use_x_forwarded_for === true, trustEdge: env.TOLLGATE_LOCAL_RUNTIME !== '1' },
  }));
  cached = { env, state };
  return state;
}
