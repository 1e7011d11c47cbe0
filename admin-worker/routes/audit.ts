import { Hono } from 'hono';
import { z } from 'zod';
import { queryInt } from './principals/fields.ts';
import { requireAdminReader } from '../lib/auth.ts';
import type { AdminBindings } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { maskedMetadataWithin } from '../lib/secret-mask.ts';
import { notFound, parseQuery } from '../lib/validation.ts';
import { isoDate, keyHash, Where } from './spend/query.ts';

/**
 * LiteLLM's audit-log reads (`GET /audit`, `GET /audit/{id}`: its
 * enterprise `audit_logging_endpoints`), over the LiteLLM_AuditLog rows every
 * admin write adds in its own transaction (lib/audit.ts, secrets left out).
 * For admins and viewers, as the admin UI's audit-log page is.
 */
export const auditRoutes = new Hono<AdminBindings>();

/** An instant as ISO 8601 (`2026-11-26T10:00:00Z`, `2026-11-26 10:00:00`, taken as UTC without an offset) or a day (`2026-11-26`). */
const INSTANT = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const instant = z.string()
  .refine((s) => INSTANT.test(s) && isoDate.safeParse(s.slice(0, 10)).success && !Number.isNaN(parsedInstant(s).getTime()), 'expected an ISO 8601 date or date-time');
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function parsedInstant(s: string): Date {
  const t = s.replace(' ', 'T');
  return new Date(DAY.test(s) || /(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
}

const SORTABLE = ['updated_at', 'action', 'table_name', 'object_id', 'changed_by', 'changed_by_api_key'] as const;

const auditQuery = z.object({
  page: queryInt(1, 1_000_000, 1),
  page_size: queryInt(1, 100, 10),
  changed_by: z.string().min(1).optional().describe('the user (or `master_key`, or the litellm-changed-by header) that made the change'),
  changed_by_api_key: z.string().min(1).optional().describe('the key (sk-...) or key hash that made the change'),
  action: z.string().min(1).optional().describe('created, updated, deleted, blocked, unblocked, regenerated'),
  table_name: z.string().min(1).optional().describe('e.g. LiteLLM_VerificationToken, LiteLLM_TeamTable'),
  object_id: z.string().min(1).optional(),
  start_date: instant.optional().describe('changes at or after this instant'),
  end_date: instant.optional().describe('changes at or before this instant (a day: to its end)'),
  object_team_id: z.string().min(1).optional().describe('changes whose value before or after has this team_id'),
  object_key_hash: z.string().min(1).optional().describe('changes of this key (sk-... or its hash)'),
  sort_by: z.enum(SORTABLE).optional().describe('default updated_at'),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
});

const COLUMNS = 'id, updated_at, changed_by, changed_by_api_key, action, table_name, object_id, before_value, updated_values';

interface AuditRow {
  id: string;
  updated_at: Date | string;
  [column: string]: unknown;
}

/** A row as answered: logging secrets in any metadata masked, for rows written before answers (and so audit rows) were. */
const auditJson = (row: AuditRow) => ({
  ...row, updated_at: new Date(row.updated_at).toISOString(),
  before_value: maskedMetadataWithin(row.before_value), updated_values: maskedMetadataWithin(row.updated_values),
});

describeRoute({ method: 'get', path: '/audit', summary: 'Audit log entries a page at a time (newest first by default), filtered by who, what and when', tag: 'audit', query: auditQuery });
auditRoutes.get('/audit', async (c) => {
  requireAdminReader(c, 'view audit logs');
  const q = parseQuery(c, auditQuery);
  const where = new Where();
  if (q.changed_by) where.add('changed_by = ?', q.changed_by);
  if (q.changed_by_api_key) where.add('changed_by_api_key = ?', await keyHash(q.changed_by_api_key));
  if (q.action) where.add('action = ?', q.action);
  if (q.table_name) where.add('table_name = ?', q.table_name);
  if (q.object_id) where.add('object_id = ?', q.object_id);
  if (q.start_date) where.add('updated_at >= ?', parsedInstant(q.start_date));
  if (q.end_date) {
    // A day is whole: its changes until midnight after it.
    if (DAY.test(q.end_date)) where.add('updated_at < ?', new Date(parsedInstant(q.end_date).getTime() + 86_400_000));
    else where.add('updated_at <= ?', parsedInstant(q.end_date));
  }
  if (q.object_team_id) where.add(`? IN (before_value->>'team_id', updated_values->>'team_id')`, q.object_team_id);
  // A key's entries are those of its row (its hash is their object id); its hash is not kept in the values (lib/audit.ts).
  if (q.object_key_hash) where.add(`object_id = ? AND table_name = 'LiteLLM_VerificationToken'`, await keyHash(q.object_key_hash));
  // Ties in order of time, both in the order asked for.
  const dir = q.sort_order === 'asc' ? 'ASC' : 'DESC';
  const order = `${q.sort_by ?? 'updated_at'} ${dir}, updated_at ${dir}, id ${dir}`;
  const { pool } = c.get('db')();
  const [{ rows: counted }, { rows }] = await Promise.all([
    pool.query<{ total: number }>(`SELECT COUNT(*)::int AS total FROM "LiteLLM_AuditLog" ${where}`, where.args),
    pool.query<AuditRow>(`SELECT ${COLUMNS} FROM "LiteLLM_AuditLog" ${where} ORDER BY ${order} LIMIT ${q.page_size} OFFSET ${(q.page - 1) * q.page_size}`, where.args),
  ]);
  const total = counted[0]?.total ?? 0;
  return c.json({ audit_logs: rows.map(auditJson), total, page: q.page, page_size: q.page_size, total_pages: Math.ceil(total / q.page_size) });
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describeRoute({ method: 'get', path: '/audit/{id}', summary: 'One audit log entry', tag: 'audit' });
auditRoutes.get('/audit/:id', async (c) => {
  requireAdminReader(c, 'view audit logs');
  const id = c.req.param('id');
  // Entry ids are uuids: anything else names no entry.
  const { rows } = UUID.test(id)
    ? await c.get('db')().pool.query<AuditRow>(`SELECT ${COLUMNS} FROM "LiteLLM_AuditLog" WHERE id = $1`, [id])
    : { rows: [] as AuditRow[] };
  const row = rows[0];
  if (!row) throw notFound(`Audit log with ID ${id.slice(0, 200)} not found`);
  return c.json(auditJson(row));
});
