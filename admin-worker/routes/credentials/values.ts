/**
 * A credential's values as `/credentials` takes and shows them: the request bodies (only credential fields),
 * masking secrets (and auth headers) for every answer and audit row, refusing masks given as secrets,
 * merging a PATCH, and checking values as the `litellm_params` they become.
 */
import { z } from 'zod';
import type { CredentialRow } from '../../../drizzle/schema/admin.ts';
import { CREDENTIAL_FIELDS } from '../../../worker/config/credentials.ts';
import { resolveEnvRefs } from '../../../worker/config/env-ref.ts';
import { litellmParamsSchema } from '../../../worker/config/schema.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { isObject, type Json } from '../../../worker/json.ts';
import { isCredentialField, isSensitiveHeader } from '../../../worker/models/public-params.ts';
import { isMask, masked } from '../../lib/secret-mask.ts';
import { badRequest } from '../../lib/validation.ts';

const name = z.string({ error: 'expected a string' }).trim().min(1, 'must not be empty').max(256, 'at most 256 characters');
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });
const headers = z.record(z.string(), z.string().nullable(), { error: 'expected a mapping of header names to strings' });
/** Only the fields a credential may give (CREDENTIAL_FIELDS); `extra_headers` a mapping, the rest plain values. */
const valuesOf = <V extends z.ZodType>(v: V) => z.record(z.string(), z.unknown(), { error: 'expected a mapping of litellm_params values' }).superRefine((values, ctx) => {
  for (const [field, given] of Object.entries(values)) {
    if (!CREDENTIAL_FIELDS.includes(field)) ctx.addIssue({ code: 'custom', path: [field], message: `not a credential field (expected one of ${CREDENTIAL_FIELDS.join(', ')})` });
    else {
      const checked = (field === 'extra_headers' ? headers : v).safeParse(given);
      if (!checked.success) ctx.addIssue({ code: 'custom', path: [field], message: checked.error.issues[0]?.message ?? 'invalid' });
    }
  }
});
const info = z.record(z.string(), z.unknown(), { error: 'expected an object' });

export const newCredentialBody = z.object({
  credential_name: name,
  credential_values: valuesOf(scalar).optional(),
  credential_info: info.nullish(),
  /** Take the values from this model's litellm_params instead (LiteLLM's "reuse a model's credentials"). */
  model_id: z.string().min(1).optional(),
});
/** Fields given are merged into the stored ones (headers one by one); `null` removes one; a masked value sent back keeps it. */
export const patchCredentialBody = z.object({
  credential_name: name.optional(),
  credential_values: valuesOf(scalar.nullable()).optional(),
  credential_info: info.nullish(),
});


/** Whether a field (or an `extra_headers` entry, as `extra_headers.<name>`) holds a secret. */
const isSecret = (field: string, v: unknown) => field.startsWith('extra_headers.') ? isSensitiveHeader(field.slice(14)) : isCredentialField(field, v);

/** Values as they may leave the Worker: secrets (and auth headers) masked, the rest as stored; only credential fields. */
function maskedValues(opened: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(opened)) {
    if (!CREDENTIAL_FIELDS.includes(k)) continue;
    if (k === 'extra_headers' && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([h, hv]) => [h, isSecret(`extra_headers.${h}`, hv) ? masked(hv) : hv]));
    else out[k] = isSecret(k, v) ? masked(v) : v;
  }
  return out;
}

/** A 400 for a secret given in its masked form (a copy of what GET shows), which would be stored as the secret. */
export function refuseMasks(values: Json): void {
  const entries = Object.entries(values).flatMap(([k, v]) => (k === 'extra_headers' && isObject(v) ? Object.entries(v).map(([h, hv]) => [`extra_headers.${h}`, hv] as const) : [[k, v] as const]));
  for (const [field, v] of entries) {
    if (typeof v === 'string' && isSecret(field, v) && isMask(v)) throw badRequest(`credential_values.${field} is a masked value; send the secret itself`, `credential_values.${field}`);
  }
}

/**
 * Values checked as the litellm_params they become (`os.environ/NAME` resolved only to check): a 422
 * naming each bad field, before anything is written.
 */
export function checkValues(candidate: Json, env: Record<string, unknown>): void {
  const parsed = litellmParamsSchema.partial().safeParse(resolveEnvRefs(candidate, env).value);
  if (parsed.success) return;
  const problems = parsed.error.issues.map((i) => `credential_values.${i.path.map(String).join('.')}: ${i.message}`);
  throw new GatewayError(`Invalid request body: ${problems.join('; ')}`, {
    status: 422, type: 'validation_error', param: `credential_values.${parsed.error.issues[0]?.path.map(String).join('.') ?? ''}`,
  });
}

export function publicCredential(credentialName: string, opened: Json, credentialInfo: unknown) {
  return { credential_name: credentialName, credential_values: maskedValues(opened), credential_info: credentialInfo ?? {} };
}

/** A credential as the audit log keeps it: its values masked as GET shows them (`credential_values` is a name the audit log redacts whole). */
export const auditRow = (row: CredentialRow, opened: Json) => ({
  credential_id: row.credential_id, credential_name: row.credential_name, credential_info: row.credential_info, masked_values: maskedValues(opened),
});

/**
 * A PATCH's values over the stored ones: a field (or a header of `extra_headers`) given replaces the stored
 * one, `null` removes it, and a secret sent back as its mask (what GET shows) is the stored one.
 */
export function mergedValues(opened: Json, patch: Json): Json {
  const merged: Json = { ...opened };
  const apply = (into: Json, field: string, key: string, v: unknown, stored: unknown) => {
    if (v === null) delete into[key];
    else if (!(isSecret(field, v) && stored !== undefined && v === masked(stored))) into[key] = v;
  };
  for (const [field, v] of Object.entries(patch)) {
    if (field === 'extra_headers' && isObject(v)) {
      const storedHeaders = isObject(opened.extra_headers) ? opened.extra_headers : {};
      const next: Json = { ...storedHeaders };
      for (const [h, hv] of Object.entries(v)) apply(next, `extra_headers.${h}`, h, hv, storedHeaders[h]);
      merged.extra_headers = next;
    } else apply(merged, field, field, v, opened[field]);
  }
  return merged;
}

