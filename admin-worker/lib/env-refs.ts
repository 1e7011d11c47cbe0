import { isProxyAdmin } from './auth.ts';
import type { AdminContext } from './context.ts';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';
import { gatewaySecretNames } from '../../worker/config/runtime.ts';

/**
 * Fields of a key or team only a proxy admin may write (team admins write the rest of their team's):
 * - logging settings (`metadata.logging`, `metadata.callback_settings`) naming `os.environ/NAME` values,
 *   which the admin Worker resolves from its own environment when it sends the events: anyone else could
 *   name any of the proxy's secrets (LITELLM_MASTER_KEY, DATABASE_URL, a provider's key) as a Langfuse
 *   credential and have it sent to a host of their choosing (and the gateway's own secrets, refuseGatewaySecretRefs, by no one);
 * - `object_permission` (the field, or inside `metadata`; setting or clearing it), which grants MCP servers,
 *   used with their own credentials (worker/mcp/access.ts).
 */
export function requireAdminForPrivilegedFields(c: AdminContext, body: { metadata?: unknown; object_permission?: unknown }): void {
  requireAdminForGrants(c, body);
  const metadata = body.metadata;
  requireAdminForGrants(c, metadata);
  if (!metadata || typeof metadata !== 'object') return;
  const { logging, callback_settings: callbackSettings } = metadata as Record<string, unknown>;
  requireAdminForLoggingRefs(c, [logging, callbackSettings], 'metadata');
  // Not even a proxy admin's: the master key, the salt and the database would go to a Langfuse host of its choosing.
  refuseGatewaySecretRefs([logging, callbackSettings], 'metadata');
}

/** Logging settings (or their `callback_vars`) naming `os.environ/` values: a 403 for anyone but a proxy admin (see above). */
export function requireAdminForLoggingRefs(c: AdminContext, settings: unknown, param: string): void {
  if (isProxyAdmin(c) || collectEnvRefs(settings).size === 0) return;
  throw new GatewayError('Only proxy admins can name os.environ/ values in metadata.logging or metadata.callback_settings', { status: 403, type: 'auth_error', param });
}

/** An `object_permission` in `holder` (a body, or its metadata): refused to anyone but a proxy admin. */
function requireAdminForGrants(c: AdminContext, holder: unknown): void {
  if (isProxyAdmin(c) || !holder || typeof holder !== 'object') return;
  // Clearing one (null) widens a key to its team's grant, or a team's keys to their own: as much a grant.
  if ((holder as Record<string, unknown>).object_permission !== undefined) {
    throw new GatewayError('Only proxy admins can set object_permission', { status: 403, type: 'auth_error', param: 'object_permission' });
  }
}


/**
 * A 422 for an `os.environ/NAME` in stored values (a model's litellm_params, a credential's, an MCP server's)
 * naming one of the gateway's own secrets: a proxy admin who does not hold the master key could otherwise
 * have it sent to their own api_base or server url.
 */
export function refuseGatewaySecretRefs(values: unknown, param: string): void {
  const secrets = gatewaySecretNames();
  for (const name of collectEnvRefs(values)) {
    if (secrets.has(name)) {
      throw new GatewayError(`Invalid request body: ${param}: os.environ/${name} is one of the gateway's own secrets`, { status: 422, type: 'validation_error', param });
    }
  }
}
