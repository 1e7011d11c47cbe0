/**
 * `npm run redis:bridge -- --redis redis://host:6379 --port 8079 --token $TOKEN`:
 * the Upstash REST API in front of a plain Redis, for in-region sidecars (the
 * gateway's `@upstash/redis` client then points at it with
 * UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN).
 * Env fallbacks: REDIS_URL, UPSTASH_BRIDGE_PORT (8079), UPSTASH_BRIDGE_HOST
 * (127.0.0.1), UPSTASH_REDIS_REST_TOKEN.
 */
import { parseArgs } from 'node:util';
import { redactUrl, startUpstashBridge } from './lib/upstash-bridge.ts';

const usage = `Usage: node scripts/upstash-bridge.ts --redis redis://host:6379 --token TOKEN [--port 8079] [--host 127.0.0.1]
Env fallbacks: REDIS_URL, UPSTASH_REDIS_REST_TOKEN, UPSTASH_BRIDGE_PORT, UPSTASH_BRIDGE_HOST`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      redis: { type: 'string' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  console.error(`${err instanceof Error ? err.message : err}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const redisUrl = values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const token = values.token ?? process.env.UPSTASH_REDIS_REST_TOKEN ?? '';
const port = Number(values.port ?? process.env.UPSTASH_BRIDGE_PORT ?? 8079);
const host = values.host ?? process.env.UPSTASH_BRIDGE_HOST ?? '127.0.0.1';
if (!token) {
  console.error(`A token is required (--token or UPSTASH_REDIS_REST_TOKEN).\n${usage}`);
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Bad port: ${values.port ?? process.env.UPSTASH_BRIDGE_PORT}\n${usage}`);
  process.exit(2);
}

const bridge = await startUpstashBridge({ redisUrl, token, port, host, log: (line) => console.error(line) }).catch((err) => {
  console.error(`Could not start the bridge: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
console.log(`Upstash REST bridge on http://${host}:${new URL(bridge.url).port} -> ${redactUrl(redisUrl)}`);

const shutdown = () => void bridge.close().then(() => process.exit(0));
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
