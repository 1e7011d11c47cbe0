/**
 * LiteLLM's reusable credentials: config.yaml's `credential_list` (and the
 * `/credentials` admin API's rows), each a name and a set of `litellm_params`
 * values. A deployment that names one with `litellm_credential_name` takes
 * each of its values the deployment does not set itself, as LiteLLM's
 * `load_credentials_from_list` does.
 */
import { isObject, type Json } from '../json.ts';

/** The values a credential gives (api_key, api_base, api_version, aws_*, vertex_*, ...). */
export type CredentialValues = Json;

/**
 * The `litellm_params` a credential may give: where and as whom a deployment calls, never what it is or
 * costs (a credential's `model`, prices, limits or `use_in_pass_through` would change every model on it).
 */
export const CREDENTIAL_FIELDS: readonly string[] = [
  'api_key', 'api_base', 'api_version', 'organization', 'region_name', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token',
  'aws_region_name', 'vertex_project', 'vertex_location', 'vertex_credentials', 'extra_headers',
];

/** Credential name → values; the first of a name wins, as LiteLLM's lookup finds it. */
export type CredentialSet = ReadonlyMap<string, CredentialValues>;

export function credentialSet(list: readonly { credential_name: string; credential_values: CredentialValues }[] | undefined): CredentialSet {
  const out = new Map<string, CredentialValues>();
  for (const c of list ?? []) if (!out.has(c.credential_name)) out.set(c.credential_name, c.credential_values);
  return out;
}

/**
 * `litellm_params` with the named credential's values under the deployment's own. Undefined when it names
 * a credential `credentials` does not have; the params themselves when it names none.
 */
export function withCredential(params: Json, credentials: CredentialSet): Json | undefined {
  const name = params.litellm_credential_name;
  if (typeof name !== 'string') return params;
  const values = credentials.get(name);
  if (!values) return undefined;
  const out: Json = { ...params };
  for (const [key, value] of Object.entries(values)) {
    if (!CREDENTIAL_FIELDS.includes(key)) continue;
    if (out[key] === undefined) out[key] = value;
    else if (key === 'extra_headers' && isObject(out[key]) && isObject(value)) out[key] = { ...value, ...out[key] };
  }
  return out;
}

/**
 * config.yaml (its `os.environ/` references resolved) with every model_list entry's credential applied.
 * A name credential_list does not have is an error; a name listed twice a warning (the first is used).
 */
export function applyConfigCredentials(config: unknown): { value: unknown; errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!isObject(config)) return { value: config, errors, warnings };
  const list = Array.isArray(config.credential_list) ? config.credential_list : [];
  const named: { credential_name: string; credential_values: CredentialValues }[] = [];
  const seen = new Set<string>();
  list.forEach((c, i) => {
    if (!isObject(c) || typeof c.credential_name !== 'string' || !isObject(c.credential_values)) return; // the schema names these
    if (seen.has(c.credential_name)) warnings.push(`credential_list[${i}]: a second credential named "${c.credential_name}" (the first is used, as in LiteLLM)`);
    for (const key of Object.keys(c.credential_values)) {
      if (!CREDENTIAL_FIELDS.includes(key)) warnings.push(`credential_list[${i}].credential_values.${key}: not a credential field (ignored; a credential gives ${CREDENTIAL_FIELDS.join(', ')})`);
    }
    seen.add(c.credential_name);
    named.push({ credential_name: c.credential_name, credential_values: c.credential_values });
  });
  if (!Array.isArray(config.model_list)) return { value: config, errors, warnings };
  const credentials = credentialSet(named);
  const models = config.model_list.map((entry: unknown, i: number) => {
    if (!isObject(entry) || !isObject(entry.litellm_params)) return entry;
    const params = withCredential(entry.litellm_params, credentials);
    if (params) return params === entry.litellm_params ? entry : { ...entry, litellm_params: params };
    const name = String(entry.litellm_params.litellm_credential_name);
    errors.push(`model_list[${i}].litellm_params.litellm_credential_name: no credential named "${name}" in credential_list` +
      (credentials.size ? ` (it has ${[...credentials.keys()].map((n) => `"${n}"`).join(', ')})` : ''));
    return entry;
  });
  return { value: { ...config, model_list: models }, errors, warnings };
}
