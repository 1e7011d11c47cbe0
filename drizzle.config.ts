import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate --name <name>` writes a new migration into drizzle/migrations. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/schema.ts',
  out: './drizzle/migrations',
});
