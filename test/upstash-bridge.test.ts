import { createHash } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripUpstashShebang } from '../scripts/lib/upstash-bridge.ts';
import { freshRedis, hasRedis, type TestRedis } from './support/redis.ts';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** How often Redis ran `name` (INFO commandstats), to tell EVALSHA hits from EVAL fallbacks. */
async function calls(t: TestRedis, name: string): Promise<number> {
  const info = await t.redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('stripUpstashShebang', () => {
  it('drops the Upstash-only flag and keeps the others', () => {
    expect(stripUpstashShebang('#!lua flags=allow-key-locking\nreturn 1')).toBe('\nreturn 1');
    expect(stripUpstashShebang('#!lua flags=allow-key-locking,no-writes\nreturn 1')).toBe('#!lua flags=no-writes\nreturn 1');
    expect(stripUpstashShebang('#!lua flags=no-writes\nreturn 1')).toBeUndefined();
    expect(stripUpstashShebang('return 1')).toBeUndefined();
  });
});

describe.skipIf(!hasRedis())('Upstash REST bridge with @upstash/redis', () => {
  let t: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    t = await freshRedis();
    redis = new Redis({ url: t.restUrl, token: t.token, enableTelemetry: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('SET with ex, GET, TTL', async () => {
    expect(await redis.set('greeting', 'hello', { ex: 100 })).toBe('OK');
    expect(await redis.get('greeting')).toBe('hello');
    const ttl = await redis.ttl('greeting');
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await redis.get('missing')).toBeNull();
    expect(await t.redis.get('greeting')).toBe('hello');
  });

  it('JSON values round-trip', async () => {
    const value = { id: 'chatcmpl-1', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }], usage: { total_tokens: 3 } };
    await redis.set('json', value);
    expect(await redis.get('json')).toEqual(value);
    expect(JSON.parse((await t.redis.get('json'))!)).toEqual(value);
  });

  it('INCR and INCRBY return numbers', async () => {
    expect(await redis.incr('counter')).toBe(1);
    expect(await redis.incrby('counter', 41)).toBe(42);
    expect(await redis.incrbyfloat('float', 1.5)).toBe(1.5);
  });

  it('UTF-8 survives both ways', async () => {
    const text = 'héllo wörld — 日本語 🚀 "quoted" \\ back\nslash';
    await redis.set('utf8 ключ', text);
    expect(await redis.get('utf8 ключ')).toBe(text);
    expect(await t.redis.get('utf8 ключ')).toBe(text);
  });

  it('pipeline: results in order, a failed command reported in place', async () => {
    const p = redis.pipeline();
    p.set('p1', 'a');
    p.incr('p2');
    p.get('p1');
    p.hset('h', { f: 'v', n: 1 });
    p.hgetall('h');
    expect(await p.exec()).toEqual(['OK', 1, 'a', 2, { f: 'v', n: 1 }]);

    const bad = redis.pipeline();
    bad.set('p3', 'x');
    bad.lpush('p3', 'y');
    bad.get('p3');
    const results = await bad.exec({ keepErrors: true });
    expect(results[0]).toEqual({ error: undefined, result: 'OK' });
    expect(results[1]?.error).toMatch(/WRONGTYPE/);
    expect(results[2]).toEqual({ error: undefined, result: 'x' });
  });

  it('multi-exec: hset + hgetall, zadd + zrange', async () => {
    const tx = redis.multi();
    tx.hset('user', { name: 'Ada', visits: 3 });
    tx.hgetall('user');
    tx.zadd('board', { score: 2, member: 'b' }, { score: 1, member: 'a' });
    tx.zrange('board', 0, -1, { withScores: true });
    expect(await tx.exec()).toEqual([2, { name: 'Ada', visits: 3 }, 2, ['a', 1, 'b', 2]]);
  });

  it('EVAL', async () => {
    const script = 'redis.call("SET", KEYS[1], ARGV[1]); return {redis.call("GET", KEYS[1]), 7}';
    expect(await redis.eval(script, ['evalkey'], ['v1'])).toEqual(['v1', 7]);
  });

  it('createScript: EVALSHA, NOSCRIPT, EVAL fallback, then EVALSHA hits', async () => {
    const script = redis.createScript<number>('return redis.call("INCRBY", KEYS[1], ARGV[1])');
    const evalBefore = await calls(t, 'eval');
    const shaBefore = await calls(t, 'evalsha');
    expect(await script.exec(['scripted'], ['5'])).toBe(5);
    expect(await calls(t, 'eval')).toBe(evalBefore + 1);
    expect(await script.exec(['scripted'], ['5'])).toBe(10);
    expect(await calls(t, 'eval')).toBe(evalBefore + 1);
    expect(await calls(t, 'evalsha')).toBe(shaBefore + 2);
  });

  it('scripts with the Upstash-only `#!lua flags=allow-key-locking` shebang run, and EVALSHA finds them', async () => {
    const source = '#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1])';
    const script = redis.createScript<number>(source);
    expect(await script.exec(['locked'], [])).toBe(1);
    const evalCalls = await calls(t, 'eval');
    expect(await script.exec(['locked'], [])).toBe(2);
    expect(await calls(t, 'eval')).toBe(evalCalls);
    // SCRIPT LOAD answers the sha1 of the script as sent, which EVALSHA then accepts.
    const other = '#!lua flags=allow-key-locking\nreturn 42';
    expect(await redis.scriptLoad(other)).toBe(sha1(other));
    expect(await redis.evalsha(sha1(other), [], [])).toBe(42);
    expect(await redis.scriptExists(sha1(other))).toEqual([1]);
  });

  it('a WRONGTYPE error surfaces as an error (HTTP 400)', async () => {
    await redis.lpush('list', 'x');
    await expect(redis.get('list')).rejects.toThrow(/WRONGTYPE/);
    const res = await fetch(t.restUrl, { method: 'POST', headers: { authorization: `Bearer ${t.token}` }, body: '["GET","list"]' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^WRONGTYPE/) });
  });

  it('base64 encoding and the path-style API', async () => {
    const auth = { authorization: `Bearer ${t.token}` };
    await redis.set('b64', 'hé');
    const encoded = await fetch(t.restUrl, { method: 'POST', headers: { ...auth, 'Upstash-Encoding': 'base64' }, body: '["MGET","b64","nope","counter"]' });
    expect(await encoded.json()).toEqual({ result: [Buffer.from('hé').toString('base64'), null, Buffer.from('42').toString('base64')] });
    expect(await (await fetch(`${t.restUrl}/incrby/pathy/3`, { headers: auth })).json()).toEqual({ result: 3 });
    expect(await (await fetch(`${t.restUrl}/set/pathkey/v?EX=60`, { headers: auth })).json()).toEqual({ result: 'OK' });
    expect(await (await fetch(`${t.restUrl}/get/pathkey?_token=${t.token}`)).json()).toEqual({ result: 'v' });
  });

  it('a wrong token gets 401', async () => {
    const res = await fetch(t.restUrl, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '["PING"]' });
    expect(res.status).toBe(401);
    expect((await fetch(t.restUrl, { method: 'POST', body: '["PING"]' })).status).toBe(401);
    const wrong = new Redis({ url: t.restUrl, token: 'nope', enableTelemetry: false });
    await expect(wrong.get('greeting')).rejects.toThrow(/Unauthorized/);
  });

  it('Redis stopped: the client errors within a second; restarted: it works again', async () => {
    await t.stopRedis();
    const started = Date.now();
    await expect(redis.get('greeting')).rejects.toThrow(/Redis unavailable/);
    await expect(redis.pipeline().get('greeting').incr('counter').exec()).rejects.toThrow(/Redis unavailable/);
    expect(Date.now() - started).toBeLessThan(1000);

    await t.startRedis();
    expect(await redis.set('after', 'restart')).toBe('OK');
    expect(await redis.get('after')).toBe('restart');
    expect(await redis.get('greeting')).toBeNull(); // a restarted Redis is empty
    expect(await t.redis.get('after')).toBe('restart');
  });
});
