/**
 * LiteLLM's JWT auth settings (`general_settings.litellm_jwtauth`, on with `enable_jwt_auth`): which claims name
 * the caller's team, user, organization and end user, which scope makes a proxy admin, and what a token may call
 * (worker/auth/jwt-identity.ts reads them; the provider's keys come from `JWT_PUBLIC_KEY_URL`).
 */
import { z } from 'zod';
import { bool, nonNegative, str, strList } from './fields.ts';

export const jwtAuthSchema = z.object({
  /** The scope (in the token's `scope` claim) that makes its holder a proxy admin. */
  admin_jwt_scope: str.optional(),
  /** Claims (dot paths) naming the caller's team; the first of `team_ids_jwt_field`'s list when the first is absent. */
  team_id_jwt_field: str.optional(),
  team_ids_jwt_field: str.optional(),
  /** The team of tokens that name none. */
  team_id_default: str.optional(),
  user_id_jwt_field: str.optional(),
  org_id_jwt_field: str.optional(),
  /** Create the user (team) a token names when it does not exist yet, instead of refusing the call. */
  user_id_upsert: bool.optional(),
  team_id_upsert: bool.optional(),
  /** Routes or LiteLLM route groups a token that is not an admin's may call (`openai_routes`, `info_routes` by default). */
  team_allowed_routes: strList.min(1, 'expected at least one route or route group (an empty list would allow every route)').optional(),
  /** Seconds the provider's keys are used before they are fetched again (600 by default). */
  public_key_ttl: nonNegative.optional(),
  /** Seconds of clock skew allowed on `exp` and `nbf` (0 by default). */
  leeway: nonNegative.optional(),
});

export type JwtAuthSettings = z.infer<typeof jwtAuthSchema>;
