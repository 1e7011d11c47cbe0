import { describe, expect, it } from 'vitest';
import { IMPLEMENTED_PROVIDERS, KNOWN_PROVIDERS } from '../config/providers.ts';
import { PROVIDERS } from './registry.ts';

describe('provider registry', () => {
  it('has an adapter for exactly the providers the config calls implemented', () => {
    expect([...PROVIDERS.keys()].sort()).toEqual([...IMPLEMENTED_PROVIDERS].sort());
  });

  it('only registers providers the config accepts', () => {
    for (const id of PROVIDERS.keys()) expect(KNOWN_PROVIDERS).toContain(id);
  });
});
