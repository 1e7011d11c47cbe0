import { describe, expect, it } from 'vitest';
import { sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { useWorkerDatabase, workerModule } from './support/worker-database.ts';

/**
 * The gateway's per-isolate view of LiteLLM_JWTKeyMapping (worker/auth/jwt-key-mapping.ts), through the driver the
 * Workers use, on the clock its callers pass: a change is seen within 5 s, and while Postgres cannot be read a
 * mapping read in the last minute is still used, then the call gets a 503.
 */

interface Client { claim: string; value: string; issuer: string }
interface Mappings { tokenFor(client: Client, now?: number): Promise<string | null> }
type Module = { JwtKeyMappings: new (settings: Record<string, unknown>, env: Record<string, unknown>) => Mappings };

const db = useWorkerDatabase();
const mappings = async () => new (await workerModule<Module>('worker/auth/jwt-key-mapping.ts')).JwtKeyMappings({ jwt_client_id_field: 'client_id' }, db.env);

async function mapped(value: string, issuer = ''): Promise<string> {
  const hash = sha256(`sk-${value}`);
  await query(db.url, 'INSERT INTO "LiteLLM_VerificationToken" (token) VALUES ($1)', [hash]);
  await query(db.url, 'INSERT INTO "LiteLLM_JWTKeyMapping" (jwt_claim_name, jwt_claim_value, jwt_issuer, token) VALUES ($1, $2, $3, $4)', ['client_id', value, issuer, hash]);
  return hash;
}

describe('a mapping as the gateway reads it', () => {
  it('is used for 5 s after it was read, then read again: a deletion is seen within 5 s', async () => {
    const hash = await mapped('cache-a');
    const view = await mappings();
    const client = { claim: 'client_id', value: 'cache-a', issuer: '' };
    const t0 = Date.now();
    expect(await view.tokenFor(client, t0)).toBe(hash);
    await query(db.url, 'DELETE FROM "LiteLLM_JWTKeyMapping" WHERE jwt_claim_value = $1', ['cache-a']);
    expect(await view.tokenFor(client, t0 + 4_000)).toBe(hash);
    expect(await view.tokenFor(client, t0 + 5_000)).toBeNull();
  });

  it('prefers the token issuer\'s own mapping over one for any issuer, and skips an inactive one', async () => {
    const any = await mapped('cache-b');
    const own = sha256('sk-cache-b-own');
    await query(db.url, 'INSERT INTO "LiteLLM_VerificationToken" (token) VALUES ($1)', [own]);
    await query(db.url, 'INSERT INTO "LiteLLM_JWTKeyMapping" (jwt_claim_name, jwt_claim_value, jwt_issuer, token) VALUES ($1, $2, $3, $4)', ['client_id', 'cache-b', 'https://idp', own]);
    const view = await mappings();
    expect(await view.tokenFor({ claim: 'client_id', value: 'cache-b', issuer: 'https://idp' })).toBe(own);
    expect(await view.tokenFor({ claim: 'client_id', value: 'cache-b', issuer: 'https://elsewhere' })).toBe(any);
    expect(await view.tokenFor({ claim: 'azp', value: 'cache-b', issuer: '' })).toBeNull();
    await query(db.url, 'UPDATE "LiteLLM_JWTKeyMapping" SET is_active = false WHERE jwt_claim_value = $1', ['cache-b']);
    expect(await (await mappings()).tokenFor({ claim: 'client_id', value: 'cache-b', issuer: 'https://idp' })).toBeNull();
  });

  it('while Postgres refuses connections: the last minute\'s read is used, then a 503, never a key made up', async () => {
    const hash = await mapped('cache-c');
    const view = await mappings();
    const client = { claim: 'client_id', value: 'cache-c', issuer: '' };
    const t0 = Date.now();
    expect(await view.tokenFor(client, t0)).toBe(hash);
    const name = new URL(db.url).pathname.slice(1);
    const admin = db.url.replace(`/${name}`, '/postgres');
    await query(admin, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    try {
      expect(await view.tokenFor(client, t0 + 6_000)).toBe(hash);
      await expect(view.tokenFor(client, t0 + 61_000)).rejects.toMatchObject({ status: 503, type: 'no_db_connection' });
      // Never read: nothing to fall back on.
      await expect(view.tokenFor({ ...client, value: 'cache-never-read' }, t0 + 70_000)).rejects.toMatchObject({ status: 503 });
    } finally {
      await query(admin, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }
    // Postgres back: read again (past the 2 s back-off after a failure).
    expect(await view.tokenFor(client, t0 + 80_000)).toBe(hash);
  });

  it('a value Postgres refuses (a NUL) maps nothing and holds back no other lookup: no outage, no back-off', async () => {
    const hash = await mapped('cache-d');
    const view = new (await workerModule<Module>('worker/auth/jwt-key-mapping.ts')).JwtKeyMappings({ virtual_key_claim_field: 'client_id' }, db.env);
    const t0 = Date.now();
    expect(await view.tokenFor({ claim: 'client_id', value: 'bad\u0000value', issuer: '' }, t0)).toBeNull();
    // Within what would have been the 2 s back-off, a mapping never read before is read (no 503).
    expect(await view.tokenFor({ claim: 'client_id', value: 'cache-d', issuer: '' }, t0 + 1)).toBe(hash);
  });
});
