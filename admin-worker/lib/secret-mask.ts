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
const PUBLIC_VAR = /^langfuse_public_key$|^posthog_api_url$|_(host|project|base_url|project_name|bucket_name)$/;

/** Whether callback variable `name` is shown as stored (see PUBLIC_VAR). */
export const isPublicCallbackVar = (name: string): boolean => PUBLIC_VAR.test(name);

/**
 * A public variable's URL as shown: its userinfo and query (where a host's credentials or an `?api_key=`
 * travel) as `****`; any other value as written. Showing it again changes nothing.
 *
 * @example maskedUrl('https://user:pass@lf.example/?key=k') // 'https://****@lf.example/?****'
 */
export function maskedUrl(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return v;
  }
  const userinfo = url.username !== '' || url.password !== '';
  if (!userinfo && url.search === '') return v;
  const out = v.replace(/^([^:/?#]+:\/\/)[^/?#]*@/, '$1****@').replace(/\?[^#]*/, '?****');
  // A form the URL parser reads credentials from but the pattern misses is shown not at all.
  return userinfo && !out.includes('****@') ? '****' : out;
}

/** Whether a URL is shown masked (maskedUrl): credentials or a query as `****`. */
export const isMaskedUrl = (v: unknown): boolean => typeof v === 'string' && /^[^:/?#]+:\/\/\*{4}@|\?\*{4}(#|$)/.test(v);

/**
 * Callback variable `name` as an answer shows it: a public one as written (its URL's credentials masked),
 * any other masked (`...ABCD`), an `os.environ/NAME` as written, a non-text value (a service account's
 * JSON) as `****`. A mask stays as it is, so an audit row written masked reads the same.
 */
export function shownVar(name: string, v: unknown): unknown {
  if (isPublicCallbackVar(name)) return maskedUrl(v);
  if (isMask(v)) return v;
  return v !== null && typeof v === 'object' ? '****' : masked(v);
}

/** Whether callback variable `name` holds a mask (what shownVar shows), which must never be stored. */
const isMaskedVar = (name: string, v: unknown): boolean => (isPublicCallbackVar(name) ? isMaskedUrl(v) : isMask(v));

/** Callback variables as an answer shows them (shownVar). */
export function maskedVars(vars: unknown): unknown {
  if (!isObject(vars)) return vars;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, shownVar(k, v)]));
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

/**
 * Every `metadata` inside an audit row's value masked as maskedMetadata masks it (a key's or team's, and
 * those nested in it): rows written before answers were masked keep their secrets in clear.
 */
export function maskedMetadataWithin(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskedMetadataWithin);
  // LiteLLM writes its audit values as JSON text (json.dumps): read, masked and written back as text.
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    const parsed = pythonJson(value);
    return parsed === undefined ? value : JSON.stringify(maskedMetadataWithin(parsed));
  }
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'metadata' ? maskedMetadataText(v) : maskedMetadataWithin(v)]));
}

/** A metadata value masked, kept as JSON text when it was text (LiteLLM's json.dumps). */
function maskedMetadataText(value: unknown): unknown {
  if (typeof value !== 'string') return maskedMetadata(value);
  const parsed = pythonJson(value);
  return parsed === undefined ? value : JSON.stringify(maskedMetadata(parsed));
}

/** JSON text as Python's json.dumps writes it (NaN and Infinity read as null), or undefined. */
function pythonJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    try {
      return JSON.parse(text.replace(/(?<=[:,[]\s*)(?:-?Infinity|NaN)(?=\s*[,\]}])/g, 'null')) as unknown;
    } catch {
      return undefined;
    }
  }
}

/**
 * A 400 for a callback variable sent as its mask (an answer copied back), named `${param}.${name}`;
 * `alternative` ends the message with another way out.
 */
export function refuseMaskedVars(vars: unknown, param: string, alternative = ''): void {
  if (!isObject(vars)) return;
  for (const [name, value] of Object.entries(vars)) {
    if (isMaskedVar(name, value)) throw badRequest(`${param}.${name} is a masked value; send the secret itself${alternative}`, `${param}.${name}`);
  }
}

/**
 * A 400 for key or team metadata whose logging settings (`callback_settings`, `logging`) carry a mask, as
 * an answer (maskedMetadata) copied back would: stored, it would replace the secret. Masks of the stored
 * values are taken back first (logging-sent-back.ts), so one left here matches nothing stored.
 */
export function refuseMaskedLogging(metadata: unknown, options: { merged?: boolean } = {}): void {
  if (!isObject(metadata)) return;
  // A key's metadata is merged: a setting left out keeps the stored one.
  const alternative = (field: string) => (options.merged ? `, or leave metadata.${field} out to keep the stored settings` : '');
  if (isObject(metadata.callback_settings)) refuseMaskedVars(metadata.callback_settings.callback_vars, 'metadata.callback_settings.callback_vars', alternative('callback_settings'));
  if (!Array.isArray(metadata.logging)) return;
  for (const [i, entry] of metadata.logging.entries()) {
    if (isObject(entry)) refuseMaskedVars(entry.callback_vars, `metadata.logging[${i}].callback_vars`, alternative('logging'));
  }
}
