/**
 * LiteLLM's Postgres service metrics (`service_callback: ["prometheus_system"]`; telemetry/metrics/services.ts) for
 * one request's pool: every query drizzle or a route runs through it (`pool.query`, and a transaction's client) is
 * timed, or counted as failed. Only pools of callers that turned the setting on are wrapped, so others pay nothing.
 */
import type { Pool, PoolClient } from '@neondatabase/serverless';
import { recordServiceCall } from '../telemetry/metrics/services.ts';

/** The statement's verb as LiteLLM's `function_name` label: a handful of values, never the SQL or its parameters. */
function verbOf(args: unknown[]): string {
  const first = args[0];
  const text = typeof first === 'string' ? first : typeof (first as { text?: unknown })?.text === 'string' ? (first as { text: string }).text : '';
  const verb = /^\s*(select|insert|update|delete|with|begin|commit|rollback)\b/i.exec(text)?.[1];
  return verb ? verb.toLowerCase() : 'query';
}

type Query = (...args: unknown[]) => unknown;
const WRAPPED = Symbol('tollgate.measured');

/** Times each promise-style call of `target.query`; a callback-style call (the pool's own, inside pool.query) is left alone. */
function wrapQuery(target: { query: Query; [WRAPPED]?: true }): void {
  if (target[WRAPPED]) return;
  target[WRAPPED] = true;
  const query = target.query.bind(target);
  target.query = (...args: unknown[]) => {
    if (typeof args[args.length - 1] === 'function') return query(...args);
    const started = Date.now();
    const result = query(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(() => recordServiceCall('postgres', verbOf(args), started), (err: unknown) => recordServiceCall('postgres', verbOf(args), started, err));
    }
    return result;
  };
}

/** Measures every query run through `pool` from now on (its transactions' clients too). */
export function measurePostgres(pool: Pool): void {
  wrapQuery(pool as unknown as { query: Query });
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { connect: Query }).connect = (...args: unknown[]) => {
    // pool.query connects with a callback: that query is measured already, as pool.query.
    if (args.length) return connect(...args);
    return (connect() as Promise<PoolClient>).then((client) => {
      wrapQuery(client as unknown as { query: Query });
      return client;
    });
  };
}
