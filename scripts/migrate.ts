/**
 * `npm run db:migrate`: applies drizzle/migrations to DATABASE_URL through the
 * Workers' own driver (a WebSocket proxy is started for a plain Postgres).
 */
import { migrateDatabase } from './lib/migrate.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set (npm start migrates its embedded database by itself).');
  process.exit(1);
}
try {
  await migrateDatabase(url, process.env.DATABASE_WSPROXY || undefined);
  console.log('Migrations applied.');
} catch (err) {
  console.error('Migration failed:', err instanceof Error ? err.message : err);
  process.exit(1);
}
