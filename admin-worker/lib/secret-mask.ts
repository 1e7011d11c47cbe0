import { envRefName } from '../../worker/config/env-ref.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { badRequest } from './validation.ts';

/**
 * The mask of a secret value as the admin API shows it: its last four characters (none of a short one);
 * an `os.environ/NAME` reference is not a secret and shows as written.
 *
 * @example masked('sk-lf-0123456789abcd') // '...abcd'
 */
export const masked = (v: unknown): unknown => (typeof v !== 'string' || envRefName(v) !== undefined ? v : v.length >= 12 ? `...${v.slice(-4)}` : '****');

/** Whether a value is a mask (what `masked` shows), which must never be stored as the secret it stands for. */
export const isMask = (v: unknown): boolean => typeof v === 'string' && /^(\.\.\.[\s\S]{4}|\*{4})$/.test(v);

/**
 * Callback variables that are not secrets, shown as stored: where events go, never what lets one send
 * them. Any other variable is taken for a secret, so a callback whose key names we do not know
 * (`gcs_path_service_account`, `datadog_api_key`, `s3_aws_session_token`) is masked too.
 */
const PUBLIC_VAR = /^langfuse_public_key$|_(host|project|base_url|project_name)$/;

/** Whether callback variable `name` is shown as stored (see PUBLIC_VAR). */
export const isPublicCallbackVar = (name: string): boolean => PUBLIC_VAR.test(name);

/**
 * Callback variables as an answer shows them: all but PUBLIC_VAR's masked (`...ABCD`), an
 * `os.environ/NAME` as written, a non-text value (a service account's JSON) as `****`.
 */
export function maskedVars(vars: unknown): unknown {
  if (!isObject(vars)) return vars;
  const mask = (v: unknown) => (v !== null && typeof v === 'object' ? '****' : masked(v));
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, isPublicCallbackVar(k) ? v : mask(v)]));
}

/**
 * Key or team metadata as an answer shows it: the variables of `callback_settings` and of each `logging`
 * entry masked (maskedVars). For every reader of a key or team, its members included.
 */
export function maskedMetadata(metadata: unknown): unknown {
  if (!isObject(metadata)) return metadata;
  const out: Json = { ...metadata };
  if (isObject(out.callback_settings)) out.callback_settings = { ...out.callback_settings, callback_vars: maskedVars(out.callback_settings.callback_vars) };
  if (Array.isArray(out.logging)) out.logging = out.logging.map((e: unknown) => (isObject(e) ? { ...e, callback_vars: maskedVars(e.callback_vars) } : e));
  return out;
}

/** A 400 for a secret callback variable sent as its mask (an answer copied back), named `${param}.${name}`. */
export function refuseMaskedVars(vars: unknown, param: string): void {
  if (!isObject(vars)) return;
  for (const [name, value] of Object.entries(vars)) {
    if (!isPublicCallbackVar(name) && isMask(value)) throw badRequest(`${param}.${name} is a masked value; send the secret itself`, `${param}.${name}`);
  }
}

/**
 * A 400 for key or team metadata whose logging settings (`callback_settings`, `logging`) carry a masked
 * secret, as an answer (maskedMetadata) copied back would: stored, it would replace the secret.
 */
export function refuseMaskedLogging(metadata: unknown): void {
  if (!isObject(metadata)) return;
  if (isObject(metadata.callback_settings)) refuseMaskedVars(metadata.callback_settings.callback_vars, 'metadata.callback_settings.callback_vars');
  if (!Array.isArray(metadata.logging)) return;
  for (const [i, entry] of metadata.logging.entries()) {
    if (isObject(entry)) refuseMaskedVars(entry.callback_vars, `metadata.logging[${i}].callback_vars`);
  }
}
