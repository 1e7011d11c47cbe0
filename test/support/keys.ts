import { createHash, randomBytes } from 'node:crypto';
import { exec, query } from './pg-client.ts';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface SeedKey {
  models?: string[];
  teamId?: string;
  userId?: string;
  alias?: string;
  blocked?: boolean;
  expires?: Date;
  spend?: number;
}

/**
 * Writes a virtual key straight into LiteLLM_VerificationToken (hash only),
 * as the admin API will; returns the plain key.
 */
export async function seedKey(databaseUrl: string, options: SeedKey = {}): Promise<string> {
  const key = `sk-${randomBytes(16).toString('base64url')}`;
  await query(databaseUrl, `INSERT INTO "LiteLLM_VerificationToken"
      (token, key_name, key_alias, models, team_id, user_id, blocked, expires, spend)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
    sha256(key), `sk-...${key.slice(-4)}`, options.alias ?? null, options.models ?? [], options.teamId ?? null,
    options.userId ?? null, options.blocked ?? false, options.expires ?? null, options.spend ?? 0,
  ]);
  return key;
}

export async function seedTeam(databaseUrl: string, team: { id: string; alias?: string; models?: string[]; blocked?: boolean }): Promise<void> {
  await query(databaseUrl, 'INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, models, blocked) VALUES ($1, $2, $3, $4)', [
    team.id, team.alias ?? team.id, team.models ?? [], team.blocked ?? false,
  ]);
}

/** Polls until `fn` returns a value (the queue consumer writes asynchronously), or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

export async function spendLogRow(databaseUrl: string, requestId: string): Promise<Record<string, unknown> | undefined> {
  const rows = await query(databaseUrl, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [requestId]);
  return rows[0];
}

export { exec };
