/**
 * Prompts as `/prompts` shows them, in LiteLLM's PromptSpec shape: config.yaml's under their own id with
 * `prompt_info.prompt_type: "config"`, stored ones as `<id>.v<n>` with `"db"`. Secrets (PROMPT_SECRET_FIELDS)
 * are masked as every admin answer masks them (`...abcd`; an `os.environ/NAME` as written), URLs with their
 * credentials or query masked, and the values of `provider_specific_query_params` (sent in api_base's query, where
 * a store's token may travel) as `****`; the audit log keeps the same view.
 */
import { DEFAULT_ENVIRONMENT, type PromptRow } from '../../../drizzle/schema/prompts.ts';
import { isObject, type Json } from '../../../worker/json.ts';
import { loadDotprompts, pickDotprompt } from '../../../worker/prompts/dotprompt.ts';
import type { PromptSpec } from '../../../worker/prompts/schema.ts';
import { shownPromptId } from '../../../worker/prompts/stored-ids.ts';
import { isPromptSecret } from '../../../worker/prompts/stored-params.ts';
import { masked, maskedUrl } from '../../lib/secret-mask.ts';

/** Fields holding where a prompt is fetched from, shown with their URL's credentials and query masked. */
export const URL_FIELDS = new Set(['api_base', 'langfuse_host']);

/** The field whose values are sent in api_base's query, shown masked as that query is: each value QUERY_MASK. */
export const QUERY_FIELD = 'provider_specific_query_params';
export const QUERY_MASK = '****';

const maskedQuery = (v: unknown): unknown => (isObject(v) ? Object.fromEntries(Object.keys(v).map((name) => [name, QUERY_MASK])) : v);

/** litellm_params as an answer shows them. */
function shownParams(params: Json): Json {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, isPromptSecret(k) ? masked(v) : URL_FIELDS.has(k) ? maskedUrl(v) : k === QUERY_FIELD ? maskedQuery(v) : v]));
}

/** A stored row as LiteLLM's PromptSpec, `params` its litellm_params opened (or with unopenable secrets masked already). */
export function storedSpec(row: PromptRow, params: Json) {
  return {
    prompt_id: shownPromptId(row.prompt_id, row.version),
    litellm_params: shownParams(params),
    prompt_info: { ...(isObject(row.prompt_info) ? row.prompt_info : {}), prompt_type: 'db' },
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
    environment: row.environment,
    created_by: row.created_by,
  };
}

/** One of config.yaml's prompts as LiteLLM's PromptSpec. */
export function configSpec(spec: PromptSpec) {
  return {
    prompt_id: spec.prompt_id,
    litellm_params: shownParams(spec.litellm_params),
    prompt_info: { ...spec.prompt_info, prompt_type: 'config' },
    created_at: null,
    updated_at: null,
    version: null,
    environment: DEFAULT_ENVIRONMENT,
    created_by: null,
  };
}

/** LiteLLM's `raw_prompt_template`: a dotprompt's template and front matter, null for a prompt held elsewhere. */
export function rawTemplate(promptId: string, params: Json): { litellm_prompt_id: string; content: string; metadata: Json } | null {
  if (params.prompt_integration !== 'dotprompt') return null;
  try {
    const template = pickDotprompt(loadDotprompts(promptId, params as { dotprompt_content?: string; prompt_data?: Record<string, unknown> }), promptId, undefined);
    return template ? { litellm_prompt_id: promptId, content: template.template, metadata: template.metadata } : null;
  } catch {
    return null;
  }
}
