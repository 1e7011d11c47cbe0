import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { type AffinityInput, itemPinner, type PinEnv, pinnedDeployment, pinServed } from './affinity.ts';
import { AffinityTable } from './affinity-table.ts';
import { encryptedPinKey, producedContents } from './encrypted-affinity.ts';

function config(router: Record<string, unknown>): TollgateConfig {
  const result = validateConfig({ model_list: [{ model_name: 'g', litellm_params: { model: 'mock/m' } }], router_settings: router }, {});
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

const all = config({ optional_pre_call_checks: ['encrypted_content_affinity', 'session_affinity', 'deployment_affinity'] });

/** A group's pin object as DeploymentHealth serves it (its per-call bounds), over `table`; `answerAtMost` shortens its answers. */
function objectEnv(table: AffinityTable, answerAtMost?: number): PinEnv {
  const object = {
    pinnedDeployments: (keys: string[]) => table.lookupForCall(keys, Date.now()).slice(0, answerAtMost),
    pinDeployments: (pins: never[]) => table.pinForCall(pins, Date.now()),
  };
  return { ROUTER_HEALTH: { idFromName: (name: string) => name, get: () => object } } as unknown as PinEnv;
}

const background: Promise<unknown>[] = [];
const ctx = { waitUntil: (p: Promise<unknown>) => void background.push(p) };
const settled = async () => {
  while (background.length) await background.shift();
};

describe('the pin object answers every key one call sends', () => {
  it('stores all 32 items an answer produces, its last ones when it produced more, and a follow-up finds them', async () => {
    const table = new AffinityTable();
    const output = Array.from({ length: 40 }, (_, i) => ({ type: 'reasoning', encrypted_content: `enc-${i}` }));
    const produced = producedContents(output)!;
    expect(produced).toHaveLength(32);
    // The last items (the ones a follow-up replays latest), not the first.
    expect(produced).toContain('enc-39');
    expect(produced).not.toContain('enc-0');
    itemPinner(objectEnv(table), ctx, all, 'cap-group', 'origin')(produced);
    await settled();
    const keys = await Promise.all(produced.map(encryptedPinKey));
    expect(table.lookup(keys, Date.now()).every((id) => id === 'origin')).toBe(true);
  });

  it('looks up 8 replayed items beside the session and key pins, and renews them all', async () => {
    const table = new AffinityTable();
    const replayed = Array.from({ length: 8 }, (_, i) => `enc-miss-${i}`);
    const input: AffinityInput = { scope: 't', session: 'sess-1', keyHash: 'hash-1', encrypted: { replayed: () => replayed } };
    table.pin([{ key: 'k:hash-1', deploymentId: 'by-key', ttlMs: 60_000 }], Date.now());
    // The key's pin is the 10th key sent: found, not taken for a miss.
    const found = await pinnedDeployment(objectEnv(table), all, 'cap-group-2', input);
    expect(found).toMatchObject({ id: 'by-key', strict: false });
    expect(found.pins).toHaveLength(10);
    pinServed(objectEnv(table), ctx, 'cap-group-2', found.pins, 'served');
    await settled();
    expect(table.lookup(found.pins.map((p) => p.key), Date.now())).toEqual(Array(10).fill('served'));
  });

  it('takes a key past a shorter answer for unknown, not a miss: the pin this isolate made still holds', async () => {
    const table = new AffinityTable();
    const env = objectEnv(table, 8);
    pinServed(env, ctx, 'cap-group-3', [{ key: 's:t:sess-3', deploymentId: '', ttlMs: 60_000 }], 'pinned');
    await settled();
    const replayed = Array.from({ length: 8 }, (_, i) => `enc-unknown-${i}`);
    const found = await pinnedDeployment(env, all, 'cap-group-3', { scope: 't', session: 'sess-3', encrypted: { replayed: () => replayed } });
    expect(found).toMatchObject({ id: 'pinned', strict: false });
  });
});
