/**
 * Several gateway replicas as one: workerd's cluster mode (`Config.cluster`) in real workerd, three
 * instances on loopback with their own ports and storage directories, one generated config, one
 * S3-compatible bucket (test/fakes/s3.ts, which checks every request's signature), a real Postgres
 * behind the WebSocket proxy. Each key's limiter is one Durable Object for the whole cluster: a
 * limit holds across the instances, survives a handoff on SIGTERM and a takeover after SIGKILL.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsCredentialsFile } from '../scripts/lib/workerd-cluster.ts';
import { startWorkerd } from '../scripts/lib/workerd-process.ts';
import { BUCKET, CREDENTIALS, DIVISOR, PREFIX } from './support/cluster-build.ts';
import { useCluster } from './support/cluster-harness.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

describe('three gateway instances in one workerd cluster', () => {
  const c = useCluster();
  const { dir, credentialsFile, configFile, clusterOptions, generate, instances, env, start, at, chat, limitedKey, allowance, settle, placed, owner, leases, live } = c;

  it('joins through the bucket: a lease per instance, conditional writes, every request signed', async () => {
    expect(leases()).toHaveLength(3);
    for (const lease of leases()) {
      expect(lease.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(lease.draining).toBe(false);
      // The peer port's readiness probe: serving, holding its lease, not stopping.
      const ready = await fetch(`http://${lease.address}/ready`);
      expect([ready.status, await ready.text()]).toEqual([200, 'OK']);
    }
    expect(c.s3.calls.some((c) => c.op === 'PutObject' && c.conditions === 'if-none-match: *' && c.status === 200)).toBe(true);
    expect(c.s3.calls.some((c) => c.op === 'PutObject' && c.conditions?.startsWith('if-match: "') && c.status === 200)).toBe(true);
    // Nothing refused: every request signed with the credentials file's key (not Bedrock's), and nothing unimplemented was asked.
    expect(c.s3.calls.filter((c) => c.status === 403 || c.status === 501)).toEqual([]);
    expect(new Set(c.s3.calls.map((c) => c.accessKeyId))).toEqual(new Set([CREDENTIALS.accessKeyId]));
    for (let n = 0; n < 3; n++) expect((await fetch(`${at(n).url}/health/readiness`)).status).toBe(200);
  });

  it('enforces one rpm_limit across all instances, and a limit set through one applies on the others', async () => {
    const rpm = 7;
    const key = await limitedKey(rpm);
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await chat(i % 3, key)).status);
    const passed = statuses.filter((s) => s === 200).length;
    expect(passed).toBeGreaterThanOrEqual(rpm);
    expect(passed).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    expect(statuses.slice(0, rpm)).toEqual(new Array(rpm).fill(200));
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // The key's one limiter object lives in the bucket.
    expect(c.s3.keys(BUCKET, `${PREFIX}/v1/do/`).some((k) => k.endsWith('/own.json'))).toBe(true);

    // An unlimited key, used on instance 1 (its limiter placed there, its policy loaded), limited through instance 0's admin API.
    const other = await seedKey(c.db.url);
    for (let i = 0; i < 3; i++) expect((await chat(1, other)).status).toBe(200);
    const update = await fetch(`${at(0).url}/key/update`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: other, rpm_limit: 2 }),
    });
    expect(update.status).toBe(200);
    const after = Date.now();
    const next: number[] = [];
    for (let i = 0; i < 6; i++) next.push((await chat(2 - (i % 2), other)).status);
    // The bucket started full with 2 (the new limit), whatever the old policy had counted.
    expect(next.filter((s) => s === 200).length).toBeLessThanOrEqual(allowance(2, Date.now() - after));
    expect(next).toContain(429);
  });

  it('records spend through the queue in the cluster', async () => {
    const key = await seedKey(c.db.url);
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const r = await chat(n, key);
      expect(r.status).toBe(200);
      ids.push(r.id ?? '');
    }
    for (const id of ids) expect(await eventually(() => spendLogRow(c.db.url, id))).toMatchObject({ status: 'success', model_group: 'mock-gpt' });
  });

  it('hands a stopping instance\'s limiters to the others on SIGTERM: the counts go on there', async () => {
    const rpm = 5;
    const key = await limitedKey(rpm);
    const started = Date.now();
    // First seen on instance 0, so its limiter runs there.
    const id = await placed(0, async () => expect(await chat(0, key)).toMatchObject({ status: 200, remaining: String(rpm - 1) }));
    expect((await chat(1, key)).status).toBe(200);
    expect((await chat(2, key)).status).toBe(200);
    const before = owner(id);
    expect(before?.node).toBeDefined();
    await settle();
    const stopping = at(0);
    expect(await stopping.stop()).toEqual({ code: 0, signal: null });
    instances[0] = undefined;
    // It left the cluster: its lease is released (or already removed), not left to expire.
    const left = leases().find((l) => l.node === before?.node);
    if (left) expect(left).toMatchObject({ draining: true, expires_ms: 0 });
    expect(live()).toHaveLength(2);

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await chat(1 + (i % 2), key)).status);
    const passed = 3 + statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // Not a fresh bucket of 5 on the survivor: the 3 admitted before the stop still count.
    expect(passed).toBeGreaterThanOrEqual(rpm);
    expect(passed).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    expect(statuses.at(-1)).toBe(429);
    // The same object, now on a survivor, under a new ownership epoch.
    const after = owner(id);
    expect(after?.node).not.toBe(before?.node);
    expect(leases().map((l) => l.node)).toContain(after?.node);
    expect(after?.epoch).toBeGreaterThan(before?.epoch ?? Infinity);

    // Back with its own (stale) disk: the bucket's copy wins, and it serves the cluster again.
    await start(0);
    expect((await chat(0, key)).status).toBe(429);
  });

  it('takes a killed instance\'s limiters over once its lease expires, with their counts', async () => {
    const rpm = 5;
    const key = await limitedKey(rpm);
    const started = Date.now();
    // Placed on instance 1.
    const id = await placed(1, async () => expect(await chat(1, key)).toMatchObject({ status: 200, remaining: String(rpm - 1) }));
    expect((await chat(2, key)).status).toBe(200);
    const before = owner(id);
    await settle();
    at(1).kill('SIGKILL');
    const killedAt = Date.now();
    await at(1).exited;
    instances[1] = undefined;

    // Until the lease (20 s / DIVISOR) runs out, the limiter cannot answer: a fast 503, never a hang or a fresh count.
    const seen: { status: number; at: number }[] = [];
    let ok = 0;
    while (Date.now() - killedAt < 30_000) {
      const r = await chat(2, key);
      seen.push({ status: r.status, at: Date.now() - killedAt });
      if (r.status === 200) ok++;
      if (r.status === 429) break;
      if (r.status === 503) await new Promise((res) => setTimeout(res, 100));
    }
    const statuses = seen.map((s) => s.status);
    expect(statuses.every((s) => [200, 429, 503].includes(s)), JSON.stringify(seen)).toBe(true);
    expect(statuses.at(-1), JSON.stringify(seen)).toBe(429);
    const takenOver = seen.find((s) => s.status !== 503);
    expect(takenOver?.at, JSON.stringify(seen)).toBeLessThan(20_000);
    // Claimed by a survivor over the dead owner's expired lease, under a new epoch.
    const after = owner(id);
    expect(after?.node).not.toBe(before?.node);
    expect(after?.epoch).toBeGreaterThan(before?.epoch ?? Infinity);
    const dead = leases().find((l) => l.node === before?.node);
    if (dead) expect(dead.expires_ms).toBeLessThan(Date.now());
    if (process.env.TOLLGATE_TEST_LOG) console.log('after SIGKILL', JSON.stringify(seen));
    // Two were admitted before the kill; the survivor admits only what was left.
    expect(2 + ok).toBeGreaterThanOrEqual(rpm);
    expect(2 + ok).toBeLessThanOrEqual(allowance(rpm, Date.now() - started));
    // Other instances keep working meanwhile, and the killed one rejoins on its own disk.
    const fresh = await seedKey(c.db.url);
    expect((await chat(0, fresh)).status).toBe(200);
    await start(1);
    expect((await chat(1, key)).status).toBe(429);
    expect((await chat(1, fresh)).status).toBe(200);
  });

  it('rotates the bucket credentials without a restart: the file is reread when it changes', async () => {
    const next = { accessKeyId: 'AKIDTOLLGATEROTATED', secretAccessKey: 'rotated-secret' };
    c.s3.setCredentials([CREDENTIALS, next]);
    const from = c.s3.calls.length;
    // Replaced by rename, as a Kubernetes Secret volume swaps its files.
    writeFileSync(`${credentialsFile}.new`, awsCredentialsFile(next));
    renameSync(`${credentialsFile}.new`, credentialsFile);
    await eventually(async () => {
      const recent = c.s3.calls.slice(from);
      const byInstance = new Set(recent.filter((c) => c.accessKeyId === next.accessKeyId && c.key.includes('/nodes/') && c.op === 'PutObject').map((c) => c.key));
      return byInstance.size === 3 ? true : undefined;
    }, 20_000);
    c.s3.setCredentials([next]);
    const key = await seedKey(c.db.url);
    for (let n = 0; n < 3; n++) expect((await chat(n, key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20_000 / DIVISOR)); // a lease's worth of renewals on the new key alone
    expect(live()).toHaveLength(3);
    expect(c.s3.calls.slice(from).filter((c) => c.status === 403)).toEqual([]);
  });

  it('refuses to start without its bucket credentials, or on a disk that holds single-instance Durable Objects', async () => {
    const missing = join(dir, 'missing.capnp');
    writeFileSync(missing, generate({ ...clusterOptions(c.s3.endpoint), credentialsFile: join(dir, 'secrets', 'absent') }));
    await expect(startWorkerd({ configFile: missing, env: env(), storageDir: join(dir, 'state', 'nocreds'), readyTimeoutMs: 15_000 }))
      .rejects.toThrow(/absent/);

    // A single-instance gateway's state (here, a key's limiter): the cluster would replace it from the bucket, so it is not imported.
    const plainFile = join(dir, 'plain.capnp');
    writeFileSync(plainFile, generate());
    const legacyDir = join(dir, 'state', 'legacy');
    const single = await startWorkerd({ configFile: plainFile, env: env(), storageDir: legacyDir });
    try {
      const key = await limitedKey(5);
      const res = await fetch(`${single.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] }),
      });
      expect(res.status).toBe(200);
    } finally {
      await single.stop();
    }
    await expect(startWorkerd({ configFile, env: env(), storageDir: legacyDir, readyTimeoutMs: 15_000 }))
      .rejects.toThrow(/holds Durable Objects from before cluster mode, which the cluster would replace: move them away/);
  });
});
