import { createHash } from 'node:crypto';
import pg from 'pg';
import type { BenchReport } from './report.ts';

/** What the bench reads of the gateway's state besides its answers: limiter calls, telemetry written, the bench key. */

/**
 * Waits (up to 60 s) until the spend-log rows have stopped growing for
 * 1.5 s (the Queue consumers are idle); answers when the count last grew.
 */
export async function telemetryDrained(dbUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    let last = -1;
    let grewAt = Date.now();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const rows = Number((await client.query('SELECT count(*) AS n FROM "LiteLLM_SpendLogs"')).rows[0].n);
      if (rows !== last) {
        last = rows;
        grewAt = Date.now();
      } else if (Date.now() - grewAt >= 1500) {
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return grewAt;
  } finally {
    await client.end();
  }
}

/**
 * Every request the gateway served must have its spend-log row in Postgres and
 * its Langfuse trace at the sink, however hard it was pushed: waits (up to
 * 60 s) until both stop growing, then compares them with the gateway's own
 * request count (litellm_proxy_total_requests_metric on /metrics).
 */
export async function deliveryCheck(gatewayUrl: string, dbUrl: string, traces: () => number): Promise<BenchReport['delivery']> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const rows = async () => Number((await client.query('SELECT count(*) AS n FROM "LiteLLM_SpendLogs"')).rows[0].n);
    let last = { rows: -1, traces: -1 };
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 2000));
      const now = { rows: await rows(), traces: traces() };
      if (now.rows === last.rows && now.traces === last.traces) break;
      last = now;
    }
    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    let requests = 0;
    for (const m of text.matchAll(/^litellm_proxy_total_requests_metric_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) requests += Number(m[1]);
    return { requests, spendRows: last.rows, langfuseTraces: last.traces };
  } finally {
    await client.end();
  }
}

/**
 * The gateway's count of limiter Durable Object calls so far (tollgate_limiter_calls_total on
 * /metrics), read once the isolates have flushed their counts (at most once a second).
 */
export async function limiterCalls(gatewayUrl: string): Promise<number | undefined> {
  await new Promise((r) => setTimeout(r, 1500));
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const m = /^tollgate_limiter_calls_total (\d+(?:\.\d+)?)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The bench key: RPM/TPM limits and a budget set high enough never to refuse. */
export async function seedBenchKey(url: string, key: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, rpm_limit, tpm_limit, max_budget)
    VALUES ($1, 'sk-...0000', 'bench', 100000000, 1000000000, 1000000)`, [createHash('sha256').update(key).digest('hex')]);
  await client.end();
}
