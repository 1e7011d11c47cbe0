/**
 * Checking and shaping LiteLLM_ProxyModelTable rows for the model routes:
 * a model added through the API passes the very schema config.yaml's
 * model_list does, and leaves the Worker without its credentials.
 */
import { z } from 'zod';
import type { ProxyModelRow } from '../../../drizzle/schema/admin.ts';
import { envRefName, resolveEnvRefs } from '../../../worker/config/env-ref.ts';
import { deploymentSchema, litellmParamsSchema } from '../../../worker/config/schema.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { storeModelInDb } from '../../../worker/models/db-models.ts';
import type { GatewayState } from '../../../worker/state.ts';
import { publicParams } from '../../../worker/models/public-params.ts';
import { refuseGatewaySecretRefs } from '../../lib/env-refs.ts';
import type { AdminContext } from '../../lib/context.ts';

/** LiteLLM's words (and status) when model writes are off. */
export const STORE_DISABLED_MESSAGE = "Set 'STORE_MODEL_IN_DB='True'' in your env to enable this feature.";

export function requireStoreModelInDb(state: GatewayState, env: Record<string, unknown>): void {
  if (!storeModelInDb(state.config, env)) throw new GatewayError(STORE_DISABLED_MESSAGE, { status: 500, type: 'internal_server_error' });
}

const params = z.record(z.string(), z.unknown(), { error: 'expected an object' });

/**
 * The envelope of /model/new; the deployment itself is checked by
 * `checkedDeployment` once `os.environ/NAME` values are resolved.
 */
export const newModelBody = z.object({
  model_name: z.unknown().optional(),
  litellm_params: params,
  model_info: params.optional(),
});

/** /model/update: the model to change is `model_info.id`; the fields given replace the stored ones. */
export const updateModelBody = z.object({
  model_name: z.string({ error: 'expected a string' }).optional(),
  litellm_params: params.optional(),
  model_info: z.looseObject({ id: z.string({ error: 'model_info.id is required' }).min(1) }),
});

/** PATCH /model/{id}/update: fields given are merged into the stored ones; `null` removes one. */
export const patchModelBody = z.object({
  model_name: z.string({ error: 'expected a string' }).optional(),
  litellm_params: params.optional(),
  model_info: params.optional(),
});

export const deleteModelBody = z.object({ id: z.string({ error: 'expected a string' }).min(1) });

export const modelInfoQuery = z.object({ litellm_model_id: z.string().optional() });
export const modelInfoV2Query = z.object({ model: z.string().optional() });
export const modelGroupInfoQuery = z.object({ model_group: z.string().optional() });

export interface CheckedDeployment {
  model_name: string;
  /** As stored: sealed credentials and `os.environ/NAME` references kept, every other value as the schema parsed it. */
  litellm_params: Record<string, unknown>;
  model_info: Record<string, unknown>;
}

const PARAM_FIELDS: ReadonlySet<string> = new Set(Object.keys(litellmParamsSchema.shape));

/**
 * The deployment checked with config.yaml's `deploymentSchema`, references
 * resolved from this Worker's env for the check only (the gateway resolves
 * them again from its own env when it serves the model); a 422 naming every
 * bad field otherwise. Sealed credentials are strings, so they check as the
 * strings they replace.
 */
export function checkedDeployment(candidate: { model_name?: unknown; litellm_params: Record<string, unknown>; model_info?: Record<string, unknown> | undefined }, env: Record<string, unknown>): CheckedDeployment {
  refuseGatewaySecretRefs(candidate.litellm_params, 'litellm_params');
  const parsed = deploymentSchema.safeParse({
    model_name: candidate.model_name,
    litellm_params: resolveEnvRefs(candidate.litellm_params, env).value,
    model_info: candidate.model_info,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`);
    const first = parsed.error.issues[0];
    throw new GatewayError(`Invalid request body: ${problems.join('; ')}`, {
      status: 422, type: 'validation_error', param: first?.path.length ? first.path.map(String).join('.') : null,
    });
  }
  const stored: Record<string, unknown> = { ...parsed.data.litellm_params };
  for (const [name, raw] of Object.entries(candidate.litellm_params)) {
    if (!PARAM_FIELDS.has(name)) continue; // unknown keys are dropped, as config.yaml's are
    if (envRefName(raw)) stored[name] = raw;
    else if (name === 'extra_headers' && raw && typeof raw === 'object') {
      const headers = { ...(stored.extra_headers as Record<string, unknown> | undefined) };
      for (const [h, v] of Object.entries(raw)) if (envRefName(v)) headers[h] = v;
      stored.extra_headers = headers;
    }
  }
  return { model_name: parsed.data.model_name, litellm_params: stored, model_info: { ...parsed.data.model_info } };
}

/** A row as the API returns it (LiteLLM's shape), credentials left out. */
export function publicRow(row: ProxyModelRow) {
  return {
    model_id: row.model_id,
    model_name: row.model_name,
    litellm_params: publicParams(row.litellm_params),
    model_info: { ...row.model_info, id: row.model_id },
    blocked: row.blocked,
    created_at: row.created_at,
    created_by: row.created_by,
    updated_at: row.updated_at,
    updated_by: row.updated_by,
  };
}

/** Who made a change, for created_by / updated_by: the `litellm-changed-by` header, else the caller. */
export function actorOf(c: AdminContext): string {
  const header = c.req.header('litellm-changed-by');
  if (header) return header.slice(0, 200);
  const caller = c.get('caller');
  return caller.kind === 'master' ? 'master_key' : caller.policy.userId ?? caller.policy.keyName ?? caller.token;
}

/** `{...base, ...patch}` where a `null` in the patch removes the field. */
export function mergeFields(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
