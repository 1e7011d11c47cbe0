/**
 * The prompts stored through `/prompts` (LiteLLM_PromptTable), as chat calls find them after config.yaml's:
 * read from Postgres as DB models are (db/refreshed.ts, models/catalog.ts), only by calls naming a prompt that
 * config.yaml does not have, so a call naming none pays nothing. A warm isolate re-reads them in the background
 * at most every REFRESH_EVERY_MS while calls name them; a call waits for a fresh read when it names a prompt (or
 * version) the isolate does not know, or when the isolate's copy is older than STALE_AFTER_MS, so a prompt
 * deleted or changed through the admin API stops applying within that; such a call's key is checked before
 * it waits. A refresh reads only what changed (stored-read.ts), and a generic prompt's answers are kept per
 * opened row (generic.ts keepAnswersApart).
 */
import { inArray } from 'drizzle-orm';
import { promptTable } from '../../drizzle/schema/prompts.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { storedRowsIfAny } from '../db/pg-code.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import { StampedRows } from '../db/stamped.ts';
import { sealingSecret } from '../models/db-models.ts';
import type { StoredPromptLookup } from './apply.ts';
import { knowsStoredPrompt, pickStoredPrompt, type StoredPick, type StoredPrompts } from './stored-ids.ts';
import { type OpenedVersion, readStoredPrompts } from './stored-read.ts';

/** The oldest copy a call applies without waiting for a read: a deleted prompt stops applying within this. */
const STALE_AFTER_MS = 15_000;

/**
 * What this needs of the gateway's state (state.ts GatewayState): one object per loaded config (a new one reads
 * afresh), and its master key, the sealing secret without LITELLM_SALT_KEY.
 */
type PromptsState = { readonly masterKey: string | undefined };

let cached: { state: PromptsState; prompts: Refreshed<StoredPrompts> } | undefined;

/**
 * How a chat call finds a stored prompt (apply.ts), or undefined when the gateway has no database: nothing can
 * be stored then, so nothing is read and no refusal speaks of stored prompts.
 */
export function storedPromptLookup(state: PromptsState, env: Record<string, unknown>, ctx: WaitUntil): StoredPromptLookup | undefined {
  if (!env.DATABASE_URL) return undefined;
  return (promptId, version, confirm) => findStoredPrompt(state, env, ctx, promptId, version, confirm);
}

/**
 * The stored prompt a chat call names (stored-ids.ts), or undefined when none is stored under that name. A call
 * that would wait for a read (a prompt or version the isolate's copy does not know, or a copy too old) has its
 * key checked first (`confirm`): the prompt ids are the caller's, so a caller without a usable key cannot make
 * the isolate read the table, nor be held while it does.
 */
async function findStoredPrompt(
  state: PromptsState, env: Record<string, unknown>, ctx: WaitUntil, promptId: string, version: string | undefined, confirm: (() => Promise<void>) | undefined,
): Promise<StoredPick | undefined> {
  if (cached?.state !== state) {
    const load = (scope: WaitUntil) => loadStoredPrompts(env as Record<string, unknown> & DatabaseEnv, sealingSecret(env, state.masterKey), scope);
    cached = { state, prompts: new Refreshed<StoredPrompts>(new Map(), 'stored prompts', load) };
  }
  const { prompts } = cached;
  // While reads fail (Postgres down), calls answer from the copy they have rather than each wait for another failure.
  const mustWait = prompts.settledAt === 0 || (!prompts.backingOff
    && (Date.now() - prompts.loadedAt >= STALE_AFTER_MS || !knowsStoredPrompt(prompts.value, promptId, version)));
  if (mustWait) await confirm?.();
  return pickStoredPrompt(await prompts.current(ctx, mustWait), promptId, version);
}

/** Opened rows by id, reused while the row is unchanged (a dotprompt's parsed template is kept by its spec object). */
const opened = new StampedRows<OpenedVersion>();

async function loadStoredPrompts(env: Record<string, unknown> & DatabaseEnv, secret: string | undefined, ctx: WaitUntil): Promise<StoredPrompts> {
  const database = openDatabase(env);
  try {
    return await readStoredPrompts({
      // A database not yet migrated to 0014 has no stored prompts.
      stamps: () => storedRowsIfAny(env, () => database.db
        .select({ id: promptTable.id, prompt_id: promptTable.prompt_id, version: promptTable.version, updated_at: promptTable.updated_at })
        .from(promptTable), []),
      contents: (ids) => database.db
        .select({ id: promptTable.id, litellm_params: promptTable.litellm_params, prompt_info: promptTable.prompt_info })
        .from(promptTable)
        .where(ids && inArray(promptTable.id, ids)),
    }, opened, secret, env);
  } finally {
    ctx.waitUntil(database.close());
  }
}
