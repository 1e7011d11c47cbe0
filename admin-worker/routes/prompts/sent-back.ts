/**
 * litellm_params sent back as an answer showed them (prompts/shown.ts): LiteLLM's UI, or an admin, copies a
 * prompt and posts it with one change. A value equal to what the answer shows for the stored one is that stored
 * value: a secret's mask (`...abcd`), a URL's with its credentials or query masked, a query parameter's `****`.
 * A secret (or query parameter) taken back keeps the host it was stored for, as logging secrets do
 * (admin-worker/lib/logging-sent-back.ts): with another host it would be sent there, so the value itself must be
 * sent. Any other masked value is a 400: stored, it would replace the real one.
 */
import { isObject, type Json } from '../../../worker/json.ts';
import { PROMPT_SECRET_FIELDS } from '../../../worker/prompts/stored-params.ts';
import { isMask, isMaskedUrl, masked, maskedUrl } from '../../lib/secret-mask.ts';
import { badRequest } from '../../lib/validation.ts';
import { QUERY_FIELD, QUERY_MASK, URL_FIELDS } from './shown.ts';

/** The field saying where each secret is sent: a generic prompt's API, a Langfuse host. */
const SENT_TO: Readonly<Record<string, string>> = { api_key: 'api_base', langfuse_secret: 'langfuse_host', langfuse_secret_key: 'langfuse_host' };

/** `given` with the masks of `stored`'s values (the version it follows or changes, opened) taken back. */
export function withSecretsTakenBack(given: Json, stored: Json | undefined): Json {
  const out: Json = { ...given };
  const storedAs = (field: string, shown: (v: unknown) => unknown) => (
    stored?.[field] !== undefined && stored[field] !== '****' && given[field] === shown(stored[field])
  );
  for (const field of URL_FIELDS) {
    const v = given[field];
    if (!isMaskedUrl(v) && !isMask(v)) continue;
    if (!storedAs(field, maskedUrl)) throw badRequest(`litellm_params.${field} is a masked URL; send the URL itself`, `litellm_params.${field}`);
    out[field] = stored![field];
  }
  const query = given[QUERY_FIELD];
  if (isObject(query) && Object.values(query).includes(QUERY_MASK)) out[QUERY_FIELD] = queryTakenBack(query, stored, out.api_base);
  for (const field of PROMPT_SECRET_FIELDS) {
    if (!isMask(given[field])) continue;
    if (!storedAs(field, masked)) throw badRequest(`litellm_params.${field} is a masked value; send the secret itself`, `litellm_params.${field}`);
    const host = SENT_TO[field]!;
    if (out[host] !== stored![host]) {
      throw badRequest(`litellm_params.${field} sent back as shown keeps the ${host} it was stored for; to change the ${host}, send the secret itself`, `litellm_params.${field}`);
    }
    out[field] = stored![field];
  }
  return out;
}

/** Query parameters sent back with masked values: the stored ones, sent to the same api_base only. */
function queryTakenBack(given: Json, stored: Json | undefined, apiBase: unknown): Json {
  const param = `litellm_params.${QUERY_FIELD}`;
  const storedQuery = stored?.[QUERY_FIELD];
  const out: Json = { ...given };
  for (const [name, v] of Object.entries(given)) {
    if (v !== QUERY_MASK) continue;
    if (!isObject(storedQuery) || storedQuery[name] === undefined) throw badRequest(`${param}.${name} is a masked value; send the value itself`, param);
    out[name] = storedQuery[name];
  }
  if (apiBase !== stored!.api_base) {
    throw badRequest(`${param} sent back as shown keeps the api_base it was stored for; to change the api_base, send the values themselves`, param);
  }
  return out;
}
