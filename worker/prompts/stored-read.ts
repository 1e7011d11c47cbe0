/**
 * One refresh of the stored prompts (stored.ts): every row's id, version and `updated_at` (a few bytes a row),
 * then the `litellm_params` and `prompt_info` of only the rows new or changed since the isolate last read them
 * (a write, PATCH included, moves `updated_at`), so a refresh every few seconds costs little however many
 * versions are stored. Each row is opened (its secrets unsealed, checked) once while it is unchanged.
 */
import type { PromptRow } from '../../drizzle/schema/prompts.ts';
import type { StampedRows } from '../db/stamped.ts';
import { openValues, sealingKey } from '../models/db-models.ts';
import { log } from '../telemetry/log.ts';
import { keepAnswersApart } from './generic.ts';
import type { PromptSpec } from './schema.ts';
import { shownPromptId, type StoredPrompts, type UnusableHere } from './stored-ids.ts';
import { SEALED_AS, storedPromptSpec } from './stored-params.ts';

export type PromptStamp = Pick<PromptRow, 'id' | 'prompt_id' | 'version' | 'updated_at'>;
export type PromptContent = Pick<PromptRow, 'id' | 'litellm_params' | 'prompt_info'>;

/** The two reads of a refresh; `contents` of the rows `ids` names, or of every row (an isolate's first read). */
export interface PromptRowsRead {
  stamps(): Promise<PromptStamp[]>;
  contents(ids: string[] | undefined): Promise<PromptContent[]>;
}

export type OpenedVersion = PromptSpec | UnusableHere | undefined;

/** The stored prompts as `read` finds them, rows unchanged since the last read of `kept` taken from it. */
export async function readStoredPrompts(
  read: PromptRowsRead, kept: StampedRows<OpenedVersion>, secret: string | undefined, env: Record<string, unknown>,
): Promise<StoredPrompts> {
  const stamps = await read.stamps();
  // The sealing secret is in the stamp: a row whose secrets did not open may with another.
  const stampOf = (row: PromptStamp) => `${row.updated_at.getTime()} ${row.prompt_id} ${row.version} ${secret !== undefined}`;
  const changed = stamps.filter((row) => kept.stampOf(row.id) !== stampOf(row));
  const asked = changed.length === 0 ? [] : await read.contents(changed.length === stamps.length ? undefined : changed.map((r) => r.id));
  const contents = new Map(asked.map((r) => [r.id, r]));
  const key = secret ? await sealingKey(secret) : undefined;
  const out = new Map<string, Map<number, PromptSpec | UnusableHere>>();
  for (const row of stamps) {
    const content = contents.get(row.id);
    // Deleted between the two reads: gone (forgotten below, as it was not seen).
    if (!content && kept.stampOf(row.id) !== stampOf(row)) continue;
    const version = await kept.get(row.id, stampOf(row), () => openedPrompt({ ...row, ...content! }, key, env));
    if (!version) continue;
    const versions = out.get(row.prompt_id) ?? new Map<number, PromptSpec | UnusableHere>();
    out.set(row.prompt_id, versions.set(row.version, version));
  }
  kept.forgetUnseen();
  return out;
}

/** A row as calls apply it (or refuse it, naming what the gateway lacks); undefined (logged, naming the prompt, never a value) when it cannot be. */
async function openedPrompt(row: PromptStamp & PromptContent, key: CryptoKey | undefined, env: Record<string, unknown>): Promise<OpenedVersion> {
  const what = `stored prompt ${shownPromptId(row.prompt_id, row.version)}`;
  let params: Record<string, unknown>;
  try {
    params = await openValues(key, row.litellm_params, SEALED_AS);
  } catch {
    log.error(`${what}: its secrets do not open with this LITELLM_SALT_KEY (or there is none); not applied`);
    return undefined;
  }
  const made = storedPromptSpec(row.prompt_id, params, row.prompt_info, env);
  if ('spec' in made) return keepAnswersApart(made.spec);
  if ('needsEnv' in made) {
    log.error(`${what}: ${made.needsEnv}; calls naming it are refused`);
    return { integration: String(params.prompt_integration), needsEnv: made.needsEnv };
  }
  log.error(`${what}: invalid in the database (${made.issues.join('; ')}); not applied`);
  return undefined;
}
