/**
 * What the gateway needs to know about a virtual key and its team to admit a
 * request. Today it is read from Postgres (with a short isolate cache); the
 * Durable Object limiter will hand out the same shape as its policy snapshot.
 */
export interface TeamPolicy {
  id: string;
  alias: string | null;
  models: string[];
  blocked: boolean;
  organizationId: string | null;
  metadata: Record<string, unknown>;
  /** `model_aliases`: names the team's keys may call that stand for a model group. */
  modelAliases: Record<string, string>;
}

export interface KeyPolicy {
  /** sha256 hex of the key. */
  token: string;
  keyName: string | null;
  keyAlias: string | null;
  userId: string | null;
  organizationId: string | null;
  models: string[];
  blocked: boolean;
  expires: Date | null;
  spend: number;
  maxBudget: number | null;
  /** `soft_budget` (null: none): only the metrics shard's soft budget alerts read it. */
  softBudget: number | null;
  /** The key's own tokens and requests a minute (null: none), for LiteLLM's x-litellm-key-*-limit headers. */
  tpmLimit: number | null;
  rpmLimit: number | null;
  metadata: Record<string, unknown>;
  tags: string[];
  /** Which `cache` controls a request may use ([] = any). */
  allowedCacheControls: string[];
  /** `allowed_routes` (set by `key_type` too): the routes or LiteLLM route groups the key may call ([] = any). */
  allowedRoutes: string[];
  /**
   * The key's `disable_global_guardrails` (not its team's: key-field-policy.ts): true skips config.yaml's `default_on` guardrails;
   * those the call, key or team names still run. Absent unless true (key-field-policy.ts).
   */
  disableGlobalGuardrails?: true;
  /** `allowed_passthrough_routes` (the key's own, not its team's: key-field-policy.ts): the config pass-through endpoints it may call. Absent unless it lists any. */
  allowedPassthroughRoutes?: string[];
  /** `aliases`: names the key may call that stand for a model group (before its team's `model_aliases`). */
  aliases: Record<string, string>;
  /** The models its user may call ([] = any): a personal key (no team) is held to them. Empty where the user's limiter was not asked. */
  userModels: string[];
  /** The models its organization may call ([] = any). */
  orgModels: string[];
  team: TeamPolicy | null;
  /** The key a JWT's subject is admitted as: why it may not call (its team or user does not exist). */
  refusal?: { status: number; type: string; message: string };
}

export interface KeyStore {
  /** The policy of the key with this hash, or null when no such key exists. */
  lookup(token: string): Promise<KeyPolicy | null>;
}
