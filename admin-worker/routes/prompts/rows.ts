/**
 * The admin side of LiteLLM_PromptTable: a prompt's versions read, a row's secrets opened and new ones sealed
 * (as DB models' credentials are, worker/models/db-models.ts), and a new version written as the prompt's
 * highest + 1: writes of one prompt take turns, and two that still meet cannot both take a version (the unique (prompt_id, version) refuses the second, which is run again).
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { promptTable, type PromptRow } from '../../../drizzle/schema/prompts.ts';
import { envRefName } from '../../../worker/config/env-ref.ts';
import type { Database } from '../../../worker/db/client.ts';
import { GatewayError } from '../../../worker/errors.ts';
import type { Json } from '../../../worker/json.ts';
import { isSealed, openValues, sealValues } from '../../../worker/models/db-models.ts';
import { versionedId } from '../../../worker/prompts/stored-ids.ts';
import { storedPromptSpec, isPromptSecret, PROMPT_SECRET_FIELDS, SEALED_AS } from '../../../worker/prompts/stored-params.ts';
import type { GatewayState } from '../../../worker/state.ts';
import type { AdminContext } from '../../lib/context.ts';
import { writeKey } from '../../lib/crypto.ts';
import { refuseGatewaySecretRefs } from '../../lib/env-refs.ts';
import { badRequest } from '../../lib/validation.ts';
import { commit, type Changes, type Tx } from '../principals/mutation.ts';

export const TABLE = 'LiteLLM_PromptTable';

/** A prompt's versions, newest first (one version with `version`); with `lock`, locked for a change. */
export async function promptVersions(db: Database['db'] | Tx, promptId: string, version?: number, opts: { lock?: boolean } = {}): Promise<PromptRow[]> {
  const where = version === undefined ? eq(promptTable.prompt_id, promptId) : and(eq(promptTable.prompt_id, promptId), eq(promptTable.version, version));
  const query = db.select().from(promptTable).where(where).orderBy(desc(promptTable.version));
  return opts.lock ? query.for('update') : query;
}

/**
 * The stored rows `ids` name (`<id>.v<n>` that version, a bare id its latest), by id; an id naming none is
 * missing. One read of every version of the prompts named, picked here.
 */
export async function namedVersions(db: Database['db'], ids: readonly string[]): Promise<Map<string, PromptRow>> {
  const out = new Map<string, PromptRow>();
  if (!ids.length) return out;
  const wanted = ids.map((id) => ({ id, ...(versionedId(id) ?? { base: id, version: undefined }) }));
  const rows = await db.select().from(promptTable).where(inArray(promptTable.prompt_id, [...new Set(wanted.map((w) => w.base))]));
  for (const { id, base, version } of wanted) {
    const versions = rows.filter((r) => r.prompt_id === base);
    const row = version === undefined ? versions.reduce<PromptRow | undefined>((a, r) => (a && a.version > r.version ? a : r), undefined) : versions.find((r) => r.version === version);
    if (row) out.set(id, row);
  }
  return out;
}

/** A row's litellm_params with its secrets opened; when they do not open (another LITELLM_SALT_KEY), those secrets shown as `****`. */
export async function openedParams(c: AdminContext, state: GatewayState, row: PromptRow): Promise<Json> {
  if (!Object.values(row.litellm_params).some(isSealed)) return row.litellm_params;
  try {
    return await openValues(await writeKey(c.env, state.masterKey), row.litellm_params, SEALED_AS);
  } catch {
    return Object.fromEntries(Object.entries(row.litellm_params).map(([k, v]) => [k, isSealed(v) ? '****' : v]));
  }
}

/**
 * The litellm_params a write stores, once checked as the gateway will apply them (worker/prompts/stored-params.ts):
 * a prompt that could never run is a 400 naming why, an `os.environ/` naming one of the gateway's own secrets a 422,
 * before anything is written; its secrets sealed. Other references count as set (the gateway refuses calls when
 * one is not set there).
 */
export async function paramsToStore(c: AdminContext, state: GatewayState, promptId: string, params: Json, info: Json | null | undefined): Promise<Json> {
  refuseGatewaySecretRefs(params, 'litellm_params');
  // Checked without an environment: the admin Worker's is not the gateway's, which reads the references.
  const made = storedPromptSpec(promptId, params, info, undefined);
  if ('issues' in made) throw badRequest(`Invalid prompt: ${made.issues.join('; ')}`, 'litellm_params');
  const clear = PROMPT_SECRET_FIELDS.some((f) => typeof params[f] === 'string' && !isSealed(params[f]) && envRefName(params[f]) === undefined);
  return clear ? sealValues(await writeKey(c.env, state.masterKey), params, SEALED_AS, isPromptSecret) : params;
}

/**
 * Makes writes of one prompt (by its bare id) take turns until the transaction ends: a create, a PATCH and a
 * DELETE each see what the one before committed (a DELETE cannot miss a version a PUT is committing).
 */
export async function lockPrompt(tx: Tx, promptId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`LiteLLM_PromptTable:${promptId}`}, 0))`);
}

/** Another write took the version this one computed; it is run again. */
class VersionTaken extends GatewayError {}
const MAX_ATTEMPTS = 3;

/**
 * Writes `prompt_id`'s next version (1 for a new prompt) in a transaction of its own with its audit row;
 * `check` runs first in it (a PUT's 404). Retried when a concurrent write took the version.
 */
export async function insertNextVersion(
  c: AdminContext, row: { prompt_id: string; litellm_params: Json; prompt_info: Json; created_by: string },
  audit: (tx: Tx, changes: Changes, inserted: PromptRow) => Promise<void>, check?: (tx: Tx) => Promise<void>,
): Promise<PromptRow> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await commit(c, async (tx, changes) => {
        // The unique constraint and the retry hold against writers that do not take the lock (a LiteLLM sharing the database).
        await lockPrompt(tx, row.prompt_id);
        await check?.(tx);
        const next = sql`(SELECT COALESCE(MAX(${promptTable.version}), 0) + 1 FROM ${promptTable} WHERE ${promptTable.prompt_id} = ${row.prompt_id})`;
        const [inserted] = await tx.insert(promptTable).values({ ...row, version: next }).returning();
        await audit(tx, changes, inserted!);
        return inserted!;
      }, { onDuplicate: () => new VersionTaken(`Another write of prompt ${row.prompt_id} took its next version; try again`, { status: 409, type: 'conflict_error', param: 'prompt_id' }) });
    } catch (err) {
      if (err instanceof VersionTaken && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}
