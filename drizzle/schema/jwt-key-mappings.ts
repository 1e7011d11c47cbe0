/**
 * LiteLLM's JWT → virtual key mappings (LiteLLM_JWTKeyMapping): a verified JWT whose `jwt_client_id_field` claim
 * holds `jwt_claim_value` is admitted as the key with hash `token` (worker/auth/jwt-key-mapping.ts). The key is
 * held by its hash only; deleting the key deletes its mappings, and a regenerated key's mappings follow its new hash.
 */
import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt, uuidPk } from './columns.ts';
import { verificationTokens } from './keys.ts';

export const jwtKeyMappings = pgTable('LiteLLM_JWTKeyMapping', {
  id: uuidPk(),
  /** The token's `iss` the mapping is for; '' (LiteLLM's unscoped sentinel) for any issuer. */
  jwt_issuer: text().notNull().default(sql`''`),
  jwt_claim_name: text().notNull(),
  jwt_claim_value: text().notNull(),
  /** SHA-256 hex of the mapped virtual key. */
  token: text().notNull().references(() => verificationTokens.token, { onDelete: 'cascade', onUpdate: 'cascade' }),
  description: text(),
  is_active: boolean().notNull().default(true),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
}, (t) => [
  unique('LiteLLM_JWTKeyMapping_claim_issuer_key').on(t.jwt_claim_name, t.jwt_claim_value, t.jwt_issuer),
  index('LiteLLM_JWTKeyMapping_token_idx').on(t.token),
]);
export type JwtKeyMappingRow = typeof jwtKeyMappings.$inferSelect;
