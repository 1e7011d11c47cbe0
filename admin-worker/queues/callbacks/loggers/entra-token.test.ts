import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeAzureSentinel, startFakeAzureSentinel } from '../../../../test/fakes/azure-sentinel.ts';
import { type EntraClient, entraToken, forgetEntraToken } from './entra-token.ts';

const MONITOR = 'https://monitor.azure.com/.default';
const STORAGE = 'https://storage.azure.com/.default';
/** Scopes of their own for the lifetime test, so its tokens are kept apart from the others'. */
const lifetimeScope = (seconds: number) => `https://lifetime-${seconds}.example/.default`;

describe('Entra ID tokens kept per app registration and scope', () => {
  let entra: FakeAzureSentinel;
  let client: (scope: string) => EntraClient;
  beforeAll(async () => {
    // One token endpoint granting the one app registration both resources' scopes.
    entra = await startFakeAzureSentinel({ dcr: 'dcr-0', stream: 'Custom-LiteLLM', scopes: [MONITOR, STORAGE, lifetimeScope(120), lifetimeScope(3599)] });
    client = (scope) => ({ authority: entra.url, ...entra.client, scope });
  });
  afterAll(() => entra.close());

  it('exchanges one token a scope, keeps each, and forgets one scope\'s without touching the other\'s', async () => {
    const monitor = await entraToken(client(MONITOR), new Set());
    const storage = await entraToken(client(STORAGE), new Set());
    expect(entra.tokenRequests).toEqual([true, true]);
    expect(storage).not.toBe(monitor);
    expect(await entraToken(client(MONITOR), new Set())).toBe(monitor);
    expect(await entraToken(client(STORAGE), new Set())).toBe(storage);
    expect(entra.tokenRequests).toHaveLength(2);

    // Storage answered 401 for its token (not one of this batch's fresh ones): only that scope exchanges anew.
    expect(await forgetEntraToken(client(STORAGE), storage, 'Storage')).toBeUndefined();
    expect(await entraToken(client(MONITOR), new Set())).toBe(monitor);
    const renewed = await entraToken(client(STORAGE), new Set());
    expect(renewed).not.toBe(storage);
    expect(renewed).not.toBe(monitor);
    expect(entra.tokenRequests).toEqual([true, true, true]);
  });

  it('keeps a token living five minutes or less for half its lifetime, and one of an hour until five minutes before it lapses', async () => {
    const at = (ms: number) => vi.useFakeTimers({ toFake: ['Date'], now: ms });
    const start = Date.now() + 24 * 3600_000;
    try {
      for (const [lifetime, keptFor] of [[120, 60_000], [3599, 3299_000]] as const) {
        entra.expiresIn = lifetime;
        at(start);
        const scoped = client(lifetimeScope(lifetime));
        const first = await entraToken(scoped, new Set());
        const exchanges = entra.tokenRequests.length;
        at(start + keptFor - 1);
        expect(await entraToken(scoped, new Set())).toBe(first);
        expect(entra.tokenRequests).toHaveLength(exchanges);
        at(start + keptFor);
        expect(await entraToken(scoped, new Set())).not.toBe(first);
        expect(entra.tokenRequests).toHaveLength(exchanges + 1);
      }
    } finally {
      vi.useRealTimers();
      entra.expiresIn = 3599;
    }
  });
});
