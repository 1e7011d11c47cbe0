/**
 * LiteLLM's JWT auth settings (`general_settings.litellm_jwtauth`, on with `enable_jwt_auth`): which claims name
 * the caller's team, user, organization and end user, which scope makes a proxy admin, and what a token may call
 * (worker/auth/jwt-identity.ts reads them; the provider's keys come from `JWT_PUBLIC_KEY_URL`).
 */
import { z } from 'zod';
import { bool, nonNegative, str, strList } from './fields.ts';

/** A claim's name or dot path (`customer.id`). */
const claimPath = str.regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a claim name or dot path (e.g. "email" or "customer.id"), with no spaces or empty parts');

export const jwtAuthSchema = z.object({
  /** The scope (in the token's `scope` claim) that makes its holder a proxy admin. */
  admin_jwt_scope: str.optional(),
  /** Claims (dot paths) naming the caller's team; `team_id_default`, then the first of `team_ids_jwt_field`'s list, when the first is absent. */
  team_id_jwt_field: str.optional(),
  team_ids_jwt_field: str.optional(),
  /** The team of tokens without the team claim (before the list claim, as in LiteLLM). */
  team_id_default: str.optional(),
  user_id_jwt_field: str.optional(),
  /**
   * The claim holding the user's email: an upserted user gets it as `user_email`; a user id the gateway does not
   * have is looked up by it; a token without the user claim is the user it names (as in LiteLLM).
   */
  user_email_jwt_field: claimPath.optional(),
  /**
   * The one email domain (`my-co.com`) a token's email may have: a token with another is refused (403) before
   * any user is looked up by it, and a token without an email creates no user (`user_id_upsert`).
   */
  user_allowed_email_domain: str.regex(/^[^@\s]+$/, 'expected an email domain such as "my-co.com" (no "@", no spaces)').optional(),
  org_id_jwt_field: str.optional(),
  /** The claim naming the end user (customer) of the token's calls, in place of the request's `user`. */
  end_user_id_jwt_field: claimPath.optional(),
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
