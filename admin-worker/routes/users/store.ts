/** Reading users. */
import { eq, sql } from 'drizzle-orm';
import type { NeonDatabase } from 'drizzle-orm/neon-serverless';
import { users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { badRequest, notFound } from '../../lib/validation.ts';
import type { Tx } from '../principals/mutation.ts';

type Reader = Tx | NeonDatabase;

export const userNotFound = (userId: string) => notFound(`User not found, passed user_id=${userId}`);

export async function findUser(db: Reader, userId: string, options: { forUpdate?: boolean } = {}): Promise<UserRow | null> {
  const query = db.select().from(users).where(eq(users.user_id, userId)).limit(1);
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row ?? null;
}

/** The first user with this email (LiteLLM's update-by-email), compared case-insensitively. */
export async function findUserByEmail(db: Reader, email: string): Promise<UserRow | null> {
  const [row] = await db.select().from(users).where(sql`lower(${users.user_email}) = lower(${email})`).orderBy(users.created_at).limit(1);
  return row ?? null;
}

/** LiteLLM refuses a second user with the same id or email (it answers 409; the brief here is 400). */
export async function assertUserIsNew(db: Reader, userId: string | undefined, email: string | null | undefined): Promise<void> {
  if (userId && await findUser(db, userId)) throw badRequest(`User with id ${userId} already exists`, 'user_id');
  if (email) {
    const existing = await findUserByEmail(db, email);
    if (existing) throw badRequest(`User with email ${existing.user_email} already exists`, 'user_email');
  }
}
