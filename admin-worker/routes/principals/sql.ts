/** SQL fragments the principals routes share. */
import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** A JS list as one `text[]` parameter (drizzle would otherwise expand an array into `($1, $2, ...)`). */
export function textArray(values: readonly string[]): SQL {
  return sql`${sql.param(values)}::text[]`;
}

/** `column = ANY($1)`: one parameter however many ids. */
export function anyOf(column: AnyPgColumn, values: readonly string[]): SQL {
  return sql`${column} = ANY(${textArray(values)})`;
}

/** A `members_with_roles` jsonb list that names this user id. */
export function membersInclude(column: AnyPgColumn, userId: string): SQL {
  return sql`${column} @> ${sql.param(JSON.stringify([{ user_id: userId }]))}::jsonb`;
}

/** `members_with_roles` without the members whose user id is in `userIds`. */
export function membersWithout(column: AnyPgColumn, userIds: readonly string[]): SQL {
  return sql`COALESCE((SELECT jsonb_agg(m) FROM jsonb_array_elements(${column}) AS m WHERE NOT (m->>'user_id' = ANY(${textArray(userIds)}))), '[]'::jsonb)`;
}

/** True when `members_with_roles` names any of `userIds`. */
export function membersIncludeAny(column: AnyPgColumn, userIds: readonly string[]): SQL {
  return sql`EXISTS (SELECT 1 FROM jsonb_array_elements(${column}) AS m WHERE m->>'user_id' = ANY(${textArray(userIds)}))`;
}

/** A `text[]` column (a team's legacy `admins` / `members`) without `values`, order kept. */
export function listWithout(column: AnyPgColumn, values: readonly string[]): SQL {
  return sql`ARRAY(SELECT v FROM unnest(${column}) WITH ORDINALITY AS u(v, i) WHERE NOT (v = ANY(${textArray(values)})) ORDER BY i)`;
}
