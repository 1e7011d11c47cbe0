import { isProxyAdmin } from './auth.ts';
import type { AdminContext } from './context.ts';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';

/**
 * A key's or team's logging settings (`metadata.logging`, `metadata.callback_settings`) may name
 * `os.environ/NAME` values, which the admin Worker resolves from its own environment when it sends
 * the events. Only a proxy admin may write them: anyone else could name any of the proxy's secrets
 * (LITELLM_MASTER_KEY, DATABASE_URL, a provider's key) as a Langfuse credential and have it sent to
 * a host of their choosing.
 */
export function requireAdminForEnvRefs(c: AdminContext, metadata: unknown): void {
  requireAdminForGrants(c, metadata);
  if (isProxyAdmin(c) || !metadata || typeof metadata !== 'object') return;
  const { logging, callback_settings: callbackSettings } = metadata as Record<string, unknown>;
  if (collectEnvRefs(logging).size || collectEnvRefs(callbackSettings).size) {
    throw new GatewayError('Only proxy admins can name os.environ/ values in metadata.logging or metadata.callback_settings', { status: 403, type: 'auth_error', param: 'metadata' });
  }
}

/**
 * `object_permission` (given as a field, or inside `metadata`) grants MCP servers, used with their own
 * credentials (worker/mcp/access.ts): only a proxy admin may write one, so a team admin cannot grant their
 * team's keys servers the team was not given.
 */
function requireAdminForGrants(c: AdminContext, metadata: unknown): void {
  if (isProxyAdmin(c) || !metadata || typeof metadata !== 'object') return;
  // Clearing one (null) widens a key to its team's grant, or a team's keys to their own: as much a grant.
  if ((metadata as Record<string, unknown>).object_permission !== undefined) {
    throw new GatewayError('Only proxy admins can set object_permission', { status: 403, type: 'auth_error', param: 'object_permission' });
  }
}

/** A request body's own `object_permission` field, held to the same rule. */
export function requireAdminForObjectPermission(c: AdminContext, body: { object_permission?: unknown }): void {
  requireAdminForGrants(c, body);
}
