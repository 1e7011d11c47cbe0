import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../scripts/lib/build.ts';
import { migrateDatabase } from '../scripts/lib/migrate.ts';
import { startEmbeddedPostgres } from '../scripts/lib/postgres.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { exec, query } from './support/pg-client.ts';

const FINANCE_QUERY = `SELECT team_alias, date_trunc('day', created_at) AS day, SUM(spend) AS daily_spend_usd, COUNT(*) AS requests
FROM "LiteLLM_SpendLogs" s JOIN "LiteLLM_TeamTable" t ON t.team_id = s.team_id
WHERE created_at >= NOW() - INTERVAL '30 days' GROUP BY 1, 2 ORDER BY 2 DESC, 3 DESC;`;

const EXPECTED_TABLES = [
  'LiteLLM_VerificationToken', 'LiteLLM_DeletedVerificationToken', 'LiteLLM_DeprecatedVerificationToken',
  'LiteLLM_TeamTable', 'LiteLLM_DeletedTeamTable', 'LiteLLM_UserTable', 'LiteLLM_EndUserTable',
  'LiteLLM_OrganizationTable', 'LiteLLM_BudgetTable', 'LiteLLM_TeamMembership', 'LiteLLM_OrganizationMembership',
  'LiteLLM_ProxyModelTable', 'LiteLLM_SpendLogs', 'LiteLLM_DailyUserSpend', 'LiteLLM_DailyTeamSpend',
  'LiteLLM_DailyOrganizationSpend', 'LiteLLM_DailyEndUserSpend', 'LiteLLM_DailyTagSpend', 'LiteLLM_DailyKeySpend',
  'LiteLLM_AuditLog', 'LiteLLM_Config',
];

async function tables(url: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
  return rows.map((r) => r.table_name).sort();
}

/** Spend rows for two teams over three days (today, yesterday, 40 days ago: outside the window). */
async function seedSpend(url: string) {
  await exec(url, `
    INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('team-cx', 'customer-support'), ('team-ml', 'ml-platform'), ('team-idle', 'idle');
    INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, "startTime", "endTime", model, team_id, created_at) VALUES
      ('r1', 'acompletion', 'h1', 1.25, now(), now(), 'gpt-4o', 'team-cx', date_trunc('day', now()) + interval '1 hour'),
      ('r2', 'acompletion', 'h1', 0.75, now(), now(), 'gpt-4o', 'team-cx', date_trunc('day', now()) + interval '2 hours'),
      ('r3', 'acompletion', 'h1', 2.00, now(), now(), 'gpt-4o', 'team-cx', date_trunc('day', now()) - interval '20 hours'),
      ('r4', 'acompletion', 'h2', 5.50, now(), now(), 'claude', 'team-ml', date_trunc('day', now()) + interval '3 hours'),
      ('r5', 'acompletion', 'h2', 9.99, now(), now(), 'claude', 'team-ml', now() - interval '40 days'),
      ('r6', 'acompletion', 'h3', 3.00, now(), now(), 'claude', NULL, date_trunc('day', now()) + interval '1 hour');
  `);
}

function checkFinance(rows: Record<string, unknown>[]) {
  const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z').getTime();
  const simplified = rows.map((r) => ({
    team: r.team_alias,
    daysAgo: Math.round((today - new Date(r.day as string | Date).getTime()) / 86_400_000),
    spend: Number(r.daily_spend_usd),
    requests: Number(r.requests),
  }));
  expect(simplified).toEqual([
    { team: 'ml-platform', daysAgo: 0, spend: 5.5, requests: 1 },
    { team: 'customer-support', daysAgo: 0, spend: 2, requests: 2 },
    { team: 'customer-support', daysAgo: 1, spend: 2, requests: 1 },
  ]);
}

describe('migrations and the finance query', () => {
  let pg: TestDatabase;
  beforeAll(async () => {
    pg = await freshDatabase();
  });
  afterAll(async () => pg?.drop());

  it(`apply on the suite's Postgres (${inject('postgresKind')}), twice without harm`, async () => {
    await migrateDatabase(pg.url);
    await migrateDatabase(pg.url);
    expect(await tables(pg.url)).toEqual(expect.arrayContaining(EXPECTED_TABLES));
  });

  it('give the per-team, per-day sums finance expects, verbatim', async () => {
    await seedSpend(pg.url);
    checkFinance(await query(pg.url, FINANCE_QUERY));
  });

  it('store keys only as SHA-256 hex: the token column refuses anything else', async () => {
    await expect(exec(pg.url, `INSERT INTO "LiteLLM_VerificationToken" (token) VALUES ('sk-plaintext-key')`)).rejects.toThrow();
    await exec(pg.url, `INSERT INTO "LiteLLM_VerificationToken" (token) VALUES ('${'a'.repeat(64)}')`);
  });

  it('index spend by key, team and time', async () => {
    const rows = await query<{ indexdef: string }>(pg.url, `SELECT indexdef FROM pg_indexes WHERE tablename = 'LiteLLM_SpendLogs'`);
    const defs = rows.map((r) => r.indexdef).join('\n');
    expect(defs).toMatch(/\(api_key, "startTime"\)/);
    expect(defs).toMatch(/\(team_id, created_at\)/);
    expect(defs).toMatch(/\("startTime"\)/);
  });
});

describe('migrations on embedded PGlite', () => {
  it('apply, and the finance query gives the same sums', async () => {
    const server = await startEmbeddedPostgres('memory://');
    try {
      await migrateDatabase(server.url);
      expect(await tables(server.url)).toEqual(expect.arrayContaining(EXPECTED_TABLES));
      await seedSpend(server.url);
      checkFinance(await query(server.url, FINANCE_QUERY));
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('npm run db:migrate', () => {
  it('applies the migrations to DATABASE_URL through the Workers\' driver', async () => {
    const db = await freshDatabase();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/migrate.ts')], {
        cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url },
      });
      expect(stdout).toContain('Migrations applied.');
      expect(await tables(db.url)).toEqual(expect.arrayContaining(EXPECTED_TABLES));
    } finally {
      await db.drop();
    }
  });

  it('fails with a clear message when DATABASE_URL is missing', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const err = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/migrate.ts')], { cwd: ROOT, env })
      .catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1, stderr: expect.stringContaining('DATABASE_URL is not set') });
  });
});
