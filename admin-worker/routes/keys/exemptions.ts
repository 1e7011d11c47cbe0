import { GatewayError } from '../../../worker/errors.ts';

/** What a /key/generate or /key/update body may carry of the two fields, at the top level or in its metadata. */
export interface ExemptionFields {
  disable_global_guardrails?: boolean | null | undefined;
  allowed_passthrough_routes?: string[] | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}

const refusal = (field: string) => new GatewayError(`Only proxy admins can set \`${field}\` on a key.`, { status: 403, type: 'auth_error' });

const listed = (routes: unknown): string => JSON.stringify(Array.isArray(routes) && routes.length ? routes : null);

/**
 * The key fields that take a key out of the operator's rules, which only a proxy admin may change (LiteLLM's 403s):
 * - `disable_global_guardrails: true` (the field, or in `metadata`) skips the `default_on` guardrails. Re-sending a
 *   flag the key already has is no opt-out, so a non-admin's edit of an exempted key still goes through.
 * - `allowed_passthrough_routes` holds the key to those config pass-through endpoints: setting, changing or clearing
 *   the list (clearing `metadata` clears it too) would let its holder choose where it reaches. Sent as stored, it is no change.
 * `stored` is the key's metadata before an update or rotation (undefined for a new key); those go through
 * checkedKeySentBack (stored-key-body.ts), /key/generate calls this itself.
 */
export function requireAdminForKeyExemptions(admin: boolean, body: ExemptionFields, stored?: Record<string, unknown> | null): void {
  if (admin) return;
  const metadata = body.metadata ?? {};
  const before = stored ?? {};
  if ((body.disable_global_guardrails === true || metadata.disable_global_guardrails === true) && before.disable_global_guardrails !== true) {
    throw refusal('disable_global_guardrails');
  }
  const sent = [
    ...(body.allowed_passthrough_routes !== undefined ? [body.allowed_passthrough_routes] : []),
    ...('allowed_passthrough_routes' in metadata ? [metadata.allowed_passthrough_routes] : []),
    ...(body.metadata === null ? [null] : []),
  ];
  if (sent.some((routes) => listed(routes) !== listed(before.allowed_passthrough_routes))) throw refusal('metadata.allowed_passthrough_routes');
}
