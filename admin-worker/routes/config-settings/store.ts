/**
 * Writes LiteLLM_Config's `router_settings` row, the database's router settings the gateway lays over config.yaml's
 * (worker/config/stored-router-settings.ts): `/config/update` (which checks what it stores with checkConfigUpdate,
 * stored-sections.ts) and the `/fallback` routes change it through `storeRouterSettings`.
 */
import { STORED_ROWS } from '../../../worker/config/stored-rows.ts';
import { updateConfigRow } from '../../lib/config-row.ts';
import type { AdminContext } from '../../lib/context.ts';
import { forShowing } from '../router-settings/fields.ts';
import { STORED_ROUTER_FIELDS } from './stored-sections.ts';

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The settings of `row` as an audit row holds them (readable by every admin viewer through `/audit`): a key
 * Tollgate does not store is one LiteLLM wrote (`redis_password`, `redis_url`, `default_litellm_params` with its
 * `api_key`), and appears only when removed: `[redacted]` whole. Of routing_strategy_args only the arguments the
 * gateway acts on are kept (LiteLLM may have written others, secrets among them).
 */
function audited(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (!Object.hasOwn(STORED_ROUTER_FIELDS, key)) out[key] = '[redacted]';
    else if (key !== 'routing_strategy_args') out[key] = value;
    else out[key] = isMapping(value) ? forShowing({ routing_strategy_args: value }).routing_strategy_args ?? {} : '[redacted]';
  }
  return out;
}

/** Of `before` and `after`, only the keys whose value differs (a removed key is absent from `after`), as audited; undefined when none does. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (!keys.length) return undefined;
  const pick = (from: Record<string, unknown>) => audited(Object.fromEntries(keys.filter((k) => Object.hasOwn(from, k)).map((k) => [k, from[k]])));
  return { objectId: STORED_ROWS.router_settings, before: pick(before), after: pick(after) };
}

/**
 * Replaces the stored router settings with `change(stored)` in one transaction with its audit row
 * (lib/config-row.ts: the row is created if missing and locked before it is read; one holding no mapping is refused,
 * a 500). The audit row holds only the keys that changed; nothing is written when none did.
 */
export async function storeRouterSettings(c: AdminContext, change: (stored: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await updateConfigRow(c, STORED_ROWS.router_settings, change, changedKeys);
}
