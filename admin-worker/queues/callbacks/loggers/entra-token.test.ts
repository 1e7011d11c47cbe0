import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAzureSentinel, startFakeAzureSentinel } from '../../../../test/fakes/azure-sentinel.ts';
import { type EntraClient, entraToken, forgetEntraToken } from './entra-token.ts';

const MONITOR = 'https://monitor.azure.com/.default';
const STORAGE = 'https://storage.azure.com/.default';

describe('Entra ID tokens kept per app registration and scope', () => {
  let entra: FakeAzureSentinel;
  let client: (scope: string) => EntraClient;
  beforeAll(async () => {
    // One token endpoint granting the one app registration both resources' scopes.
    entra = await startFakeAzureSentinel({ dcr: 'dcr-0', stream: 'Custom-LiteLLM', scopes: [MONITOR, STORAGE] });
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
});
