/** Column helpers shared by the schema modules (LiteLLM Prisma column types). */
import { sql } from 'drizzle-orm';
import { bigint, doublePrecision, jsonb, text, timestamp } from 'drizzle-orm/pg-core';

export type Json = Record<string, unknown>;

/**
 * One of LiteLLM's concurrent budget windows (`budget_limits` on keys and
 * teams): at most `max_budget` USD per `budget_duration`. `reset_at` (ISO
 * 8601) is set by the server, the next boundary of that window when written.
 */
export interface BudgetLimit {
  budget_duration: string;
  max_budget: number;
  reset_at: string;
}

/** `timestamptz(3)`, like Prisma's DateTime on Postgres. */
export const ts = () => timestamp({ withTimezone: true, precision: 3 });
/** `timestamptz(3) NOT NULL DEFAULT now()`. */
export const createdAt = () => ts().notNull().defaultNow();
/** `timestamptz(3) NOT NULL DEFAULT now()`, bumped by drizzle on update (Prisma's @updatedAt). */
export const updatedAt = () =>
  ts()
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
/** Money (USD) in `double precision` (Prisma Float). */
export const money = () => doublePrecision();
/** `double precision NOT NULL DEFAULT 0`. */
export const spend = () => doublePrecision().notNull().default(0);
/** `text[] NOT NULL DEFAULT '{}'`. */
export const textList = () => text().array().notNull().default(sql`'{}'::text[]`);
/** `jsonb NOT NULL DEFAULT '{}'`. */
export const jsonObject = <T = Json>() => jsonb().$type<T>().notNull().default(sql`'{}'::jsonb`);
/** Nullable `jsonb`. */
export const json = <T = Json>() => jsonb().$type<T>();
/** tpm/rpm limits: `bigint` read as a JS number. */
export const limit = () => bigint({ mode: 'number' });
/** Counters in the daily rollups: `bigint NOT NULL DEFAULT 0` read as a JS number. */
export const counter = () => bigint({ mode: 'number' }).notNull().default(0);
/** `text` PK defaulting to a random uuid (Prisma's @default(uuid())). */
export const uuidPk = () =>
  text()
    .primaryKey()
    .default(sql`gen_random_uuid()::text`);
/** `jsonb NOT NULL DEFAULT '[]'`. */
export const jsonArray = <T = unknown>() => jsonb().$type<T[]>().notNull().default(sql`'[]'::jsonb`);
