/**
 * A stored prompt's `litellm_params` (LiteLLM_PromptTable), as the admin Worker checks them before writing and
 * the gateway reads them back: the same schema as config.yaml's `prompts:` (schema.ts), and a prompt that could
 * never run (an integration Tollgate does not run, a dotprompt with no template it can read or render) is
 * refused at write rather than at every call. Secrets (PROMPT_SECRET_FIELDS) are stored sealed as DB models'
 * credentials are (models/db-models.ts `sealValues`, under SEALED_AS), or as `os.environ/NAME` references read
 * from the gateway's environment; only the fields that say where the prompt store is and how to sign in to it
 * read the environment, so a template's text never does. The admin Worker's environment is not the gateway's:
 * a write is checked with every reference taken as set and without the LANGFUSE_* fallback, and the gateway
 * refuses calls naming a prompt whose variables it lacks, naming them (`needsEnv`). A reference to one of the
 * gateway's own secrets (config/runtime.ts gatewaySecretNames) is never resolved: the API refuses one at write
 * (admin-worker/lib/env-refs.ts), but a row written by SQL, or by a LiteLLM sharing the database, would otherwise
 * have the gateway send its master key to the row's api_base.
 */
import { envRefName, resolveEnvRefs } from '../config/env-ref.ts';
import { gatewaySecretNames } from '../config/runtime.ts';
import { loadDotprompts, pickDotprompt } from './dotprompt.ts';
import { withLangfuseCredentials } from './langfuse-credentials.ts';
import { BUILT_INTEGRATIONS, type PromptSpec, promptSpecSchema } from './schema.ts';
import { unsupportedTag } from './template.ts';
import { versionedId } from './stored-ids.ts';

/** Fields holding a secret: sealed in the row, masked in every answer. */
export const PROMPT_SECRET_FIELDS: readonly string[] = ['api_key', 'langfuse_secret', 'langfuse_secret_key'];
export const isPromptSecret = (field: string): boolean => PROMPT_SECRET_FIELDS.includes(field);
/** What a sealed value's field name is prefixed with (its additional data), so it cannot pass for another table's. */
export const SEALED_AS = 'prompt';
/** The fields whose `os.environ/NAME` is read from the gateway's environment. */
const ENV_FIELDS = ['api_base', 'api_key', 'langfuse_public_key', 'langfuse_secret', 'langfuse_secret_key', 'langfuse_host'];

/** What a reference stands for in a write's check: set, and a URL where the field must be one. */
const SET_AT_CALL_TIME = 'https://os-environ.invalid';

/**
 * `params` with the references of ENV_FIELDS resolved, or, without an environment (a write's check), each taken
 * as set; `unset` names the referenced variables that are not set, `refused` those that are the gateway's own
 * secrets (then nothing is resolved), each as `litellm_params.FIELD is os.environ/NAME`.
 */
function withEnvFields(params: Record<string, unknown>, env: Record<string, unknown> | undefined): { params: Record<string, unknown>; unset: string[]; refused: string[] } {
  const refs = Object.fromEntries(ENV_FIELDS.filter((f) => params[f] !== undefined).map((f) => [f, params[f]]));
  if (!env) {
    const placeholders = Object.fromEntries(Object.entries(refs).filter(([, v]) => envRefName(v) !== undefined).map(([f]) => [f, SET_AT_CALL_TIME]));
    return { params: { ...params, ...placeholders }, unset: [], refused: [] };
  }
  const secrets = gatewaySecretNames();
  const refused = Object.entries(refs).filter(([, v]) => secrets.has(envRefName(v) ?? '')).map(([f, v]) => `litellm_params.${f} is ${String(v)}`);
  if (refused.length) return { params, unset: [], refused };
  const resolved = resolveEnvRefs(refs, env);
  const value = resolved.value as Record<string, unknown>;
  const out = { ...params };
  for (const f of Object.keys(refs)) {
    if (value[f] === undefined) delete out[f];
    else out[f] = value[f];
  }
  return { params: out, unset: resolved.missing.map((m) => `litellm_params.${m.path} is os.environ/${m.name}`), refused: [] };
}

/**
 * A stored row (its secrets already opened) as the gateway applies it with `env`: `os.environ/` resolved, checked
 * with config.yaml's schema, a Langfuse prompt's host and keys settled as config.yaml's are; the spec's prompt_id
 * is the bare id (what a prompt API is asked for). `issues` says why a row can never be applied; `needsEnv` why it
 * cannot on this gateway (a variable it refers to, or LANGFUSE_* it relies on, is not set, or it names one of the
 * gateway's own secrets). Without `env` (the admin Worker's check before a write) references count as set and
 * Langfuse keys may come from the gateway's.
 */
export function storedPromptSpec(
  promptId: string, params: Record<string, unknown>, info: unknown, env: Record<string, unknown> | undefined,
): { spec: PromptSpec } | { issues: string[] } | { needsEnv: string } {
  const resolved = withEnvFields(params, env);
  if (resolved.refused.length) return { needsEnv: `${resolved.refused.join(', ')}, refused: the gateway's own secrets are never sent for a stored prompt` };
  if (resolved.unset.length) return { needsEnv: `${resolved.unset.join(', ')}, which ${resolved.unset.length > 1 ? 'are' : 'is'} not set on the gateway` };
  const parsed = promptSpecSchema.safeParse({ prompt_id: promptId, litellm_params: resolved.params, ...(info && typeof info === 'object' ? { prompt_info: info } : {}) });
  if (!parsed.success) return { issues: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'prompt'}: ${i.message}`) };
  const problem = unrunnable(parsed.data);
  if (problem) return { issues: [problem] };
  if (!env) return { spec: parsed.data };
  const spec = withLangfuseCredentials([parsed.data], env)[0]!;
  const p = spec.litellm_params;
  if (p.prompt_integration === 'langfuse' && (!p.langfuse_public_key || !p.langfuse_secret_key)) {
    return { needsEnv: 'a Langfuse prompt without langfuse_public_key and langfuse_secret_key of its own needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (for LANGFUSE_HOST) set on the gateway' };
  }
  return { spec };
}

/** Why a prompt that passes the schema could never run, or undefined. */
function unrunnable(spec: PromptSpec): string | undefined {
  const p = spec.litellm_params;
  if (versionedId(spec.prompt_id)) return `prompt_id: "${spec.prompt_id}" ends like a version (.v<n>), which names a version of "${versionedId(spec.prompt_id)!.base}"`;
  if (!(BUILT_INTEGRATIONS as readonly string[]).includes(p.prompt_integration)) {
    return `litellm_params.prompt_integration: "${p.prompt_integration}" is not supported by Tollgate yet (only ${BUILT_INTEGRATIONS.join(', ')})`;
  }
  if (p.prompt_integration !== 'dotprompt') return undefined;
  let template;
  try {
    template = pickDotprompt(loadDotprompts(spec.prompt_id, p), spec.prompt_id, undefined);
  } catch (err) {
    return `litellm_params.dotprompt_content: ${(err as Error).message}`;
  }
  if (!template) return `litellm_params: a dotprompt needs dotprompt_content, or prompt_data for "${spec.prompt_id}" (prompt_directory and prompt_file cannot be read by a Worker)`;
  const tag = unsupportedTag(template.template);
  return tag ? `litellm_params: the template uses ${tag}, which Tollgate does not render (only {{ variable }})` : undefined;
}
