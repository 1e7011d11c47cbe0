import pg from 'pg';

/** One-shot queries from the test process over plain TCP, as finance's psql would run them. */
async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function exec(url: string, sql: string): Promise<void> {
  await withClient(url, (c) => c.query(sql));
}

export async function query<T extends Record<string, unknown> = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(url, async (c) => (await c.query<T>(sql, params)).rows);
}

export default { exec, query };
