/**
 * The fields of a stored A2A agent LiteLLM keeps beside `litellm_params` (its AgentConfig's top level):
 * `static_headers` (auth-like ones sealed, never shown), `extra_headers` (client header names passed on), and the
 * agent-level `rpm_limit` / `tpm_limit` (worker/a2a/agent-limits.ts). Checked, merged and shown here.
 */
import { z } from 'zod';
import type { AgentRow } from '../../drizzle/schema/agents.ts';
import { sealStaticHeaders, shownStaticHeaders } from '../../worker/a2a/agent-headers.ts';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isObject } from '../../worker/json.ts';
import { isSealed, unseal } from '../../worker/models/db-models.ts';

/** RFC 9110's token: what a header's name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const headerName = z.string({ error: 'expected a header name' }).regex(HEADER_NAME, 'expected an HTTP header name (letters, digits, - and the like)');
/** No CR, LF or NUL: a value that would split the agent's request, or that fetch refuses. */
const headerValue = z.string({ error: 'expected a string' }).max(8192).regex(/^[^\r\n\0]*$/, 'a header value may not hold line breaks');
const limit = z.number({ error: 'expected a whole number' }).int('expected a whole number').positive('expected a number above 0').max(Number.MAX_SAFE_INTEGER);

/** The zod fields POST, PUT and PATCH take; `null` clears a limit or the list (and, in `static_headers`, one header). */
export const agentExtraFields = {
  static_headers: z.record(headerName, headerValue.nullable(), { error: 'expected an object of header names to values' }).nullable().optional(),
  extra_headers: z.array(headerName, { error: 'expected a list of header names' }).max(100).nullable().optional(),
  rpm_limit: limit.nullable().optional(),
  tpm_limit: limit.nullable().optional(),
};

type Given = { static_headers?: Record<string, string | null> | null; extra_headers?: string[] | null; rpm_limit?: number | null; tpm_limit?: number | null };
type Columns = Pick<AgentRow, 'static_headers' | 'extra_headers' | 'rpm_limit' | 'tpm_limit'>;

/**
 * The columns a change writes. POST and PUT set what they give (a limit or list left out is cleared); PATCH only
 * what it names. `static_headers` merge header by header either way, as `litellm_params` do, names compared
 * without case and stored lower-cased (so `Authorization` given replaces a stored `authorization`, never sits
 * beside it): a stored sealed header is kept unless named (it is never shown, so it cannot be sent back), `null`
 * removes one.
 */
export async function agentExtraColumns(key: CryptoKey, given: Given, existing: Columns | undefined, replace: boolean): Promise<Columns> {
  if (given.static_headers && collectEnvRefs(given.static_headers).size) {
    throw new GatewayError('Invalid request body: static_headers: os.environ/ references are not read in agents; give the value', { status: 422, type: 'validation_error', param: 'static_headers' });
  }
  const stored = await lowerCased(key, isObject(existing?.static_headers) ? existing.static_headers : {});
  // Left out (PUT or PATCH): kept as stored. Given to a PUT: only the sealed ones it does not name stay.
  const base = given.static_headers === null ? {} : replace && given.static_headers ? Object.fromEntries(Object.entries(stored).filter(([, v]) => v.sealed)) : stored;
  const merged: Record<string, { value: unknown }> = { ...base };
  for (const [name, value] of Object.entries(given.static_headers ?? {})) {
    const lower = name.toLowerCase();
    // A row written before names were lower-cased may hold the name in another case: that one goes too.
    for (const old of Object.keys(merged)) if (old.toLowerCase() === lower) delete merged[old];
    if (value !== null) merged[lower] = { value };
  }
  const kept = Object.fromEntries(Object.entries(merged).map(([name, v]) => [name, v.value]));
  const keep = <T>(value: T | null | undefined, old: T | null): T | null => (value === undefined ? (replace ? null : old) : value);
  return {
    static_headers: await sealStaticHeaders(key, kept),
    extra_headers: keep(given.extra_headers, existing?.extra_headers ?? null) ?? [],
    rpm_limit: keep(given.rpm_limit, existing?.rpm_limit ?? null),
    tpm_limit: keep(given.tpm_limit, existing?.tpm_limit ?? null),
  };
}

/**
 * Stored static headers under lower-cased names, each marked if it was sealed. A sealed one stored under another
 * case (a row written before names were lower-cased) is opened and sealed again under its new name (the name is
 * the seal's additional data); one that does not open with this key is kept as it is, under its own name.
 */
async function lowerCased(key: CryptoKey, stored: Record<string, unknown>): Promise<Record<string, { value: unknown; sealed: boolean }>> {
  const out: Record<string, { value: unknown; sealed: boolean }> = {};
  for (const [name, value] of Object.entries(stored)) {
    const lower = name.toLowerCase();
    if (lower === name || !isSealed(value)) {
      out[lower] = { value, sealed: isSealed(value) };
      continue;
    }
    try {
      out[lower] = { value: await unseal(key, `agent.static_headers.${name}`, value), sealed: true };
    } catch {
      out[name] = { value, sealed: true };
    }
  }
  return out;
}

/** The fields as the API shows them: auth-like static headers (sealed) left out, name and value. */
export function publicAgentExtras(row: Columns) {
  return {
    static_headers: shownStaticHeaders(row.static_headers),
    extra_headers: row.extra_headers, rpm_limit: row.rpm_limit ?? null, tpm_limit: row.tpm_limit ?? null,
  };
}
