import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';

export interface UpstashBridge {
  /** `http://127.0.0.1:PORT`: the value of UPSTASH_REDIS_REST_URL. */
  url: string;
  /** The bearer token clients must send (UPSTASH_REDIS_REST_TOKEN). */
  token: string;
  close(): Promise<void>;
}

export interface UpstashBridgeOptions {
  /** `redis://[:password@]host:port[/db]` */
  redisUrl: string;
  token: string;
  /** Default: a free port. */
  port?: number;
  /** Default 127.0.0.1; a sidecar serving other pods listens on 0.0.0.0. */
  host?: string;
  /** A Redis that does not answer in time fails the request with HTTP 500. Default 5000. */
  commandTimeoutMs?: number;
  /** Default 1000. */
  connectTimeoutMs?: number;
  /** Connection state changes (lost / back). Default: silent. */
  log?: (line: string) => void;
}

type Arg = string | Buffer;
interface Command {
  name: string;
  args: Arg[];
  /** Rewrites the reply (SCRIPT LOAD answers the sha1 of the script the client sent). */
  fix?: (reply: unknown) => unknown;
}

/** A bad request: answered with HTTP 400 and `{error}`, like Upstash. */
class RequestError extends Error {}

const MAX_BODY = 64 * 1024 * 1024;

/**
 * Lua shebang flags only Upstash knows. `@upstash/ratelimit` >= 2.1 starts its
 * scripts with `#!lua flags=allow-key-locking`, which a vanilla Redis rejects
 * ("Unexpected flag in script shebang").
 */
const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking']);
const SHEBANG = /^#!lua([^\n]*)/;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** The script without Upstash-only flags, or undefined when it needs no change. */
export function stripUpstashShebang(script: string): string | undefined {
  const line = SHEBANG.exec(script);
  const flagsMatch = line && /(^|\s)flags=(\S*)/.exec(line[1] ?? '');
  if (!line || !flagsMatch) return undefined;
  const flags = (flagsMatch[2] ?? '').split(',').filter(Boolean);
  const kept = flags.filter((f) => !UPSTASH_ONLY_FLAGS.has(f));
  if (kept.length === flags.length) return undefined;
  const rest = script.slice(line[0].length);
  const otherOptions = (line[1] ?? '').replace(flagsMatch[0], '').trim();
  // No flags left: drop the shebang (legacy script semantics, as before the flag existed).
  // The line stays, empty, so Lua error line numbers still match.
  if (kept.length === 0 && !otherOptions) return rest;
  const options = [otherOptions, kept.length ? `flags=${kept.join(',')}` : ''].filter(Boolean).join(' ');
  return `#!lua ${options}${rest}`;
}

/** sha1(script as sent) → sha1(script as loaded), so EVALSHA finds stripped scripts. */
class ScriptShas {
  private map = new Map<string, string>();
  remember(original: string, stripped: string) {
    if (this.map.size >= 10_000) this.map.clear();
    this.map.set(sha1(original), sha1(stripped));
  }
  resolve(sha: Arg): Arg {
    return this.map.get(sha.toString().toLowerCase()) ?? sha;
  }
}

function rewrite(raw: unknown[], scripts: ScriptShas): Command {
  if (raw.length === 0) throw new RequestError('ERR empty command');
  const args = raw.map(toArg);
  // Upper case: ioredis transforms replies of some lower-case names (hgetall → object).
  const name = args.shift()!.toString().toUpperCase();
  const strip = (i: number) => {
    const original = args[i]?.toString();
    const stripped = original === undefined ? undefined : stripUpstashShebang(original);
    if (original === undefined || stripped === undefined) return undefined;
    scripts.remember(original, stripped);
    args[i] = stripped;
    return original;
  };
  if (name === 'EVAL' || name === 'EVAL_RO') strip(0);
  else if ((name === 'EVALSHA' || name === 'EVALSHA_RO') && args[0] !== undefined) args[0] = scripts.resolve(args[0]);
  else if (name === 'SCRIPT') {
    const sub = args[0]?.toString().toUpperCase();
    if (sub === 'LOAD') {
      const original = strip(1);
      if (original !== undefined) return { name, args, fix: () => sha1(original) };
    } else if (sub === 'EXISTS') {
      for (let i = 1; i < args.length; i++) args[i] = scripts.resolve(args[i]!);
    }
  }
  return { name, args };
}

function toArg(value: unknown): Arg {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

/** JSON for a Redis reply: bulk strings as base64 (Upstash-Encoding: base64) or UTF-8, integers as numbers. */
function encode(value: unknown, base64: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return base64 ? value.toString('base64') : value.toString('utf8');
  if (typeof value === 'string') return base64 ? Buffer.from(value).toString('base64') : value;
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  if (value instanceof Error) return encode(value.message, base64);
  return value;
}

/** Redis answered with an error (WRONGTYPE, ERR syntax, NOSCRIPT...), as opposed to not answering. */
const isReplyError = (err: unknown) => err instanceof Error && err.name === 'ReplyError';
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RequestError('ERR request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new RequestError('ERR failed to parse command: body is not JSON');
  }
}

function commandArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new RequestError('ERR failed to parse command: expected a JSON array');
  return value;
}

/** `/set/key/value?EX=10` (with an optional POST body as the last argument). */
function pathCommand(url: URL, body: Buffer): unknown[] {
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new RequestError('ERR failed to parse command: bad URL encoding');
  }
  const cmd: unknown[] = [...parts];
  for (const [key, value] of url.searchParams) {
    if (key === '_token') continue;
    cmd.push(key);
    if (value !== '') cmd.push(value);
  }
  if (body.length > 0) cmd.push(body.toString('utf8'));
  return cmd;
}

function tokenMatches(expected: Buffer, req: IncomingMessage, url: URL): boolean {
  const header = req.headers.authorization ?? '';
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? url.searchParams.get('_token') ?? '';
  const buf = Buffer.from(given);
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}

/**
 * The Upstash REST API (what `@upstash/redis` and `@upstash/ratelimit` speak)
 * in front of a plain Redis: `POST /` with `["SET","k","v"]`, `POST /pipeline`
 * and `POST /multi-exec` with a list of those, and `/cmd/arg/arg` paths.
 * A Redis that is down answers HTTP 500 at once (no offline queue), and the
 * bridge reconnects by itself when it is back.
 */
export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  if (!options.token) throw new Error('startUpstashBridge: a token is required');
  const log = options.log ?? (() => undefined);
  const connectTimeout = options.connectTimeoutMs ?? 1000;
  const redis = new Redis(options.redisUrl, {
    // Upstash answers in RESP2 shapes (flat WITHSCORES lists, doubles as strings); ioredis 6 defaults to RESP3.
    protocol: 2,
    enableOfflineQueue: false,
    connectTimeout,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => Math.min(times * 50, 250),
  });
  let up = false;
  let lastError = '';
  redis.on('ready', () => {
    up = true;
    lastError = '';
    log(`[upstash-bridge] connected to Redis at ${redactUrl(options.redisUrl)}`);
  });
  redis.on('error', (err: Error) => {
    // Said once per outage; ioredis keeps reconnecting by itself.
    if (lastError !== err.message) log(`[upstash-bridge] Redis unavailable: ${err.message}`);
    lastError = err.message;
  });
  redis.on('close', () => {
    if (up) log('[upstash-bridge] connection to Redis lost; reconnecting');
    up = false;
  });

  const scripts = new ScriptShas();
  const expected = Buffer.from(options.token);

  const runOne = async (raw: unknown[]) => {
    const cmd = rewrite(raw, scripts);
    const reply = await redis.callBuffer(cmd.name, ...cmd.args);
    return cmd.fix ? cmd.fix(reply) : reply;
  };

  const runMany = async (raws: unknown[][], multi: boolean) => {
    const cmds = raws.map((raw) => rewrite(raw, scripts));
    const batch = multi ? redis.multi() : redis.pipeline();
    for (const cmd of cmds) batch.callBuffer(cmd.name, ...cmd.args);
    let results: [Error | null, unknown][] | null;
    try {
      results = await batch.exec();
    } catch (err) {
      // EXECABORT: a queued command was rejected; say which.
      const previous = (err as { previousErrors?: unknown[] }).previousErrors?.[0];
      if (isReplyError(err)) throw new RequestError(previous ? `${message(err)} ${message(previous)}` : message(err));
      throw err;
    }
    if (!results) throw new RequestError('EXECABORT Transaction discarded');
    // A Redis that went away fails every command: that is a 500, not per-command errors.
    const down = results.find(([err]) => err && !isReplyError(err));
    if (down) throw down[0];
    return results.map(([err, reply], i) => (err ? { error: err.message } : { result: cmds[i]!.fix ? cmds[i]!.fix!(reply) : reply }));
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { error: 'Method not allowed' });
    if (!tokenMatches(expected, req, url)) return send(res, 401, { error: 'Unauthorized' });
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    try {
      const body = await readBody(req);
      const path = url.pathname.replace(/\/+$/, '');
      if (path === '/pipeline' || path === '/multi-exec') {
        const list = commandArray(parseJson(body)).map(commandArray);
        if (list.length === 0) throw new RequestError('ERR empty pipeline');
        const results = await runMany(list, path === '/multi-exec');
        return send(res, 200, results.map((r) => ('error' in r ? r : { result: encode(r.result, base64) })));
      }
      const cmd = path === '' ? commandArray(parseJson(body)) : pathCommand(url, body);
      const reply = await runOne(cmd);
      return send(res, 200, { result: encode(reply, base64) });
    } catch (err) {
      if (err instanceof RequestError || isReplyError(err)) return send(res, 400, { error: message(err) });
      return send(res, 500, { error: `ERR Redis unavailable: ${message(err)}` });
    }
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: `ERR ${message(err)}` });
      else res.destroy();
    });
  });

  // Give Redis a moment so the first request does not race the first connection;
  // start anyway when it is down (a sidecar may come up before Redis).
  await new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(done, connectTimeout);
    redis.once('ready', done);
    function done() {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const address = http.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  const host = !options.host || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: options.token,
    close: () => new Promise((resolve) => {
      redis.disconnect();
      http.close(() => resolve());
      http.closeAllConnections();
    }),
  };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
