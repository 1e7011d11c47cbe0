import { isProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { checkedSentBack } from '../../lib/logging-sent-back.ts';
import { type ExemptionFields, requireAdminForKeyExemptions } from './exemptions.ts';

/**
 * The body of a change to a stored key (/key/update, /key/bulk_update, /team/key/bulk_update, /key/regenerate)
 * checked against the key's `stored` metadata, as each of them must be: the fields that exempt a key from the
 * operator's rules (proxy admins only), then its logging settings, taken back where sent as shown (checkedSentBack).
 */
export function checkedKeySentBack<B extends ExemptionFields & { object_permission?: unknown }>(c: AdminContext, body: B, stored: Record<string, unknown> | null): B {
  requireAdminForKeyExemptions(isProxyAdmin(c), body, stored);
  return checkedSentBack(c, body, stored, { merged: true });
}
