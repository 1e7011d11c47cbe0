import { GatewayError } from '../errors.ts';

/**
 * LiteLLM's refusal of a route only proxy admins may call that no route group of a key admits (`/prompts/test`, a
 * config pass-through endpoint outside a key's `allowed_passthrough_routes`): a 401, `Authentication Error, Only
 * proxy admin ...`, without LiteLLM's `Your role=... Your user_id=...` (the role is read only to admit).
 */
export function proxyAdminRouteRefusal(path: string): GatewayError {
  return new GatewayError(`Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${path}`, {
    status: 401, type: 'auth_error', param: 'None',
  });
}
