/**
 * LiteLLM's JWT → virtual key mapping API (`/jwt/key/mapping/new`, `/update`, `/delete`, `/list`, `/info`): which
 * virtual key a verified JWT is admitted as, by its `litellm_jwtauth.virtual_key_claim_field` claim (and issuer). Writes
 * are proxy admins' only and audited; reads are admin readers'. The key named must exist and is stored by its hash,
 * which no answer shows. The gateway sees a change within 5 s (worker/auth/jwt-key-mapping.ts).
 */
import { and, count, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { type JwtKeyMappingRow, jwtKeyMappings } from '../../drizzle/schema/jwt-key-mappings.ts';
import { verificationTokens } from '../../drizzle/schema/keys.ts';
import { hashKey } from '../../worker/auth/secrets.ts';
import { GatewayError } from '../../worker/errors.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { pgCode } from '../lib/pg-error.ts';
import { badRequest, notFound, parseBody, parseQuery } from '../lib/validation.ts';
import { actorName, commit, type Tx } from './principals/mutation.ts';

export const jwtKeyMappingRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_JWTKeyMapping';
const WRITE = 'create, update, or delete JWT key mappings';
const FOREIGN_KEY_VIOLATION = '23503';

const text = (max: number) => z.string({ error: 'expected a string' }).trim().min(1, 'expected a non-empty string').max(max, `at most ${max} characters`);
const claimName = text(256);
/** Stored as given, not trimmed: it must equal the token's claim exactly (Postgres text cannot hold a NUL). */
const claimValue = z.string({ error: 'expected a string' }).min(1, 'expected a non-empty string').max(512, 'at most 512 characters')
  .refine((v) => !v.includes('\0'), 'must not contain a NUL character');
/** '' or null: any issuer (LiteLLM's unscoped mapping). */
const issuer = z.string({ error: 'expected a string' }).max(1024, 'at most 1024 characters').nullish();
/** The plain virtual key (`sk-...`): hashed here, never stored. */
const plainKey = text(512);
/** The key's SHA-256 hash, as LiteLLM stores keys. */
const keyHash = z.string({ error: 'expected a string' }).regex(/^[0-9a-f]{64}$/, 'expected the SHA-256 hash of a virtual key (64 lowercase hex characters); pass the plain key as `key` instead');
const description = z.string({ error: 'expected a string' }).max(1000, 'at most 1000 characters').nullish();
const mappingId = text(128);

const newBody = z.object({ jwt_claim_name: claimName, jwt_claim_value: claimValue, jwt_issuer: issuer, key: plainKey.optional(), token: keyHash.optional(), description });
const updateBody = z.object({
  id: mappingId, jwt_claim_name: claimName.optional(), jwt_claim_value: claimValue.optional(), jwt_issuer: issuer,
  key: plainKey.optional(), token: keyHash.optional(), description, is_active: z.boolean({ error: 'expected true or false' }).optional(),
});
/** By id (LiteLLM's DeleteJWTKeyMappingRequest), or by the claim it maps (as LiteLLM's docs show it). */
const lookupFields = { id: mappingId.optional(), jwt_claim_name: claimName.optional(), jwt_claim_value: claimValue.optional(), jwt_issuer: issuer };
const lookupBody = z.object(lookupFields);
const listQuery = z.object({
  page: z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected 1 or more').default(1),
  size: z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected 1 to 100').max(100, 'expected 1 to 100').default(50),
});

/** A row as the API shows it: LiteLLM's JWTKeyMappingResponse, without the key's hash. */
function publicMapping(row: JwtKeyMappingRow) {
  return {
    id: row.id, jwt_issuer: row.jwt_issuer || null, jwt_claim_name: row.jwt_claim_name, jwt_claim_value: row.jwt_claim_value,
    description: row.description, is_active: row.is_active, created_at: row.created_at, updated_at: row.updated_at,
    created_by: row.created_by, updated_by: row.updated_by,
  };
}

/** The hash to store: from exactly one of `key` and `token` (at most one when `required` is false). */
async function keyTokenOf(body: { key?: string | undefined; token?: string | undefined }, required: boolean): Promise<string | undefined> {
  if (body.key !== undefined && body.token !== undefined) throw badRequest('Provide only one of `key` (the plain virtual key) or `token` (its SHA-256 hash).', 'key');
  if (body.token !== undefined) return body.token;
  if (body.key !== undefined) return hashKey(body.key);
  if (required) throw badRequest('Provide exactly one of `key` (the plain virtual key) or `token` (its SHA-256 hash).', 'key');
  return undefined;
}

const noSuchKey = () => badRequest('The provided key does not match an existing virtual key.', 'key');

async function requireKey(tx: Tx, token: string): Promise<void> {
  const [found] = await tx.select({ token: verificationTokens.token }).from(verificationTokens).where(eq(verificationTokens.token, token)).limit(1);
  if (!found) throw noSuchKey();
}

const duplicate = (name: string, value: string, iss: string) => () => new GatewayError(
  `A mapping for claim '${name}' = '${value}' already exists${iss ? ` for issuer '${iss}'` : ''}.`, { status: 409, type: 'bad_request_error', param: 'jwt_claim_value' });

/** commit() with a key deleted in the meantime (the foreign key) answered as a key that does not exist. */
async function write<T>(c: AdminContext, work: Parameters<typeof commit<T>>[1], onDuplicate?: () => GatewayError): Promise<T> {
  try {
    return await commit(c, work, onDuplicate ? { onDuplicate } : {});
  } catch (err) {
    if (pgCode(err) === FOREIGN_KEY_VIOLATION) throw noSuchKey();
    throw err;
  }
}

/** The mapping a lookup names: by `id`, else by claim name, value and issuer. */
async function findMapping(db: Pick<Tx, 'select'>, lookup: z.output<typeof lookupBody>, lock = false): Promise<JwtKeyMappingRow> {
  let where;
  if (lookup.id !== undefined) where = eq(jwtKeyMappings.id, lookup.id);
  else if (lookup.jwt_claim_name !== undefined && lookup.jwt_claim_value !== undefined) {
    where = and(eq(jwtKeyMappings.jwt_claim_name, lookup.jwt_claim_name), eq(jwtKeyMappings.jwt_claim_value, lookup.jwt_claim_value), eq(jwtKeyMappings.jwt_issuer, lookup.jwt_issuer ?? ''));
  } else throw badRequest('Provide `id`, or `jwt_claim_name` and `jwt_claim_value`, to name the mapping.', 'id');
  const q = db.select().from(jwtKeyMappings).where(where).limit(1);
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound('Mapping not found');
  return row;
}

describeRoute({ method: 'post', path: '/jwt/key/mapping/new', summary: 'Map a JWT claim value to an existing virtual key (proxy admins)', tag: 'jwt key mapping', body: newBody });
jwtKeyMappingRoutes.post('/jwt/key/mapping/new', async (c) => {
  requireProxyAdmin(c, WRITE);
  const body = await parseBody(c, newBody);
  const token = (await keyTokenOf(body, true))!;
  const actor = actorName(c);
  const iss = body.jwt_issuer ?? '';
  const row = await write(c, async (tx, changes) => {
    await requireKey(tx, token);
    const [inserted] = await tx.insert(jwtKeyMappings).values({
      jwt_issuer: iss, jwt_claim_name: body.jwt_claim_name, jwt_claim_value: body.jwt_claim_value, token,
      description: body.description ?? null, created_by: actor, updated_by: actor,
    }).returning();
    await changes.audit({ action: 'created', table: TABLE, objectId: inserted!.id, after: publicMapping(inserted!) });
    return inserted!;
  }, duplicate(body.jwt_claim_name, body.jwt_claim_value, iss));
  return c.json(publicMapping(row));
});

describeRoute({ method: 'post', path: '/jwt/key/mapping/update', summary: 'Change a JWT key mapping: its claim, issuer, key, description or is_active (proxy admins)', tag: 'jwt key mapping', body: updateBody });
jwtKeyMappingRoutes.post('/jwt/key/mapping/update', async (c) => {
  requireProxyAdmin(c, WRITE);
  const body = await parseBody(c, updateBody);
  const token = await keyTokenOf(body, false);
  const actor = actorName(c);
  const row = await write(c, async (tx, changes) => {
    const existing = await findMapping(tx, { id: body.id }, true);
    if (token !== undefined) await requireKey(tx, token);
    const [updated] = await tx.update(jwtKeyMappings).set({
      ...(body.jwt_claim_name !== undefined ? { jwt_claim_name: body.jwt_claim_name } : {}),
      ...(body.jwt_claim_value !== undefined ? { jwt_claim_value: body.jwt_claim_value } : {}),
      ...(body.jwt_issuer !== undefined ? { jwt_issuer: body.jwt_issuer ?? '' } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.is_active !== undefined ? { is_active: body.is_active } : {}),
      ...(token !== undefined ? { token } : {}),
      updated_by: actor, updated_at: new Date(),
    }).where(eq(jwtKeyMappings.id, existing.id)).returning();
    await changes.audit({ action: 'updated', table: TABLE, objectId: existing.id, before: publicMapping(existing), after: { ...publicMapping(updated!), key_changed: token !== undefined && token !== existing.token } });
    return updated!;
  }, () => new GatewayError('A mapping with those claim values already exists.', { status: 409, type: 'bad_request_error', param: 'jwt_claim_value' }));
  return c.json(publicMapping(row));
});

async function deleteMapping(c: AdminContext) {
  requireProxyAdmin(c, WRITE);
  const body = await parseBody(c, lookupBody);
  await write(c, async (tx, changes) => {
    const existing = await findMapping(tx, body, true);
    await tx.delete(jwtKeyMappings).where(eq(jwtKeyMappings.id, existing.id));
    await changes.audit({ action: 'deleted', table: TABLE, objectId: existing.id, before: publicMapping(existing) });
  });
  return c.json({ status: 'success' });
}

describeRoute({ method: 'post', path: '/jwt/key/mapping/delete', summary: 'Delete a JWT key mapping, by id or by claim (proxy admins; DELETE works too)', tag: 'jwt key mapping', body: lookupBody });
jwtKeyMappingRoutes.post('/jwt/key/mapping/delete', deleteMapping);
jwtKeyMappingRoutes.delete('/jwt/key/mapping/delete', deleteMapping);

describeRoute({ method: 'get', path: '/jwt/key/mapping/list', summary: 'JWT key mappings, newest first (page, size up to 100)', tag: 'jwt key mapping' });
jwtKeyMappingRoutes.get('/jwt/key/mapping/list', async (c) => {
  requireAdminReader(c, 'list JWT key mappings');
  const { page, size } = parseQuery(c, listQuery);
  const { db } = c.get('db')();
  const [rows, [total]] = await Promise.all([
    db.select().from(jwtKeyMappings).orderBy(desc(jwtKeyMappings.created_at), desc(jwtKeyMappings.id)).limit(size).offset((page - 1) * size),
    db.select({ n: count() }).from(jwtKeyMappings),
  ]);
  const totalCount = Number(total?.n ?? 0);
  return c.json({ mappings: rows.map(publicMapping), total_count: totalCount, current_page: page, total_pages: Math.ceil(totalCount / size) });
});

describeRoute({ method: 'get', path: '/jwt/key/mapping/info', summary: 'One JWT key mapping, by ?id= or by ?jwt_claim_name=&jwt_claim_value=', tag: 'jwt key mapping' });
jwtKeyMappingRoutes.get('/jwt/key/mapping/info', async (c) => {
  requireAdminReader(c, 'get JWT key mapping info');
  const lookup = parseQuery(c, lookupBody);
  return c.json(publicMapping(await findMapping(c.get('db')().db, lookup)));
});
