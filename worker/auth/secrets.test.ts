import { describe, expect, it } from 'vitest';
import { hashKey, hashPresentedKey, newPlainKey, toHex } from './secrets.ts';

describe('key hashing', () => {
  it('is the SHA-256 hex LiteLLM stores', async () => {
    expect(await hashKey('sk-1234')).toBe('88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b');
    expect(await hashKey('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('gives a presented key the same hash, remembered or not, for short keys and long ones', async () => {
    for (const key of ['sk-1234', 'sk-1234', `sk-${'x'.repeat(300)}`, `sk-${'x'.repeat(300)}`]) expect(await hashPresentedKey(key)).toBe(await hashKey(key));
    // Past its bound the memory starts over, and the answers stay the same.
    for (let i = 0; i < 1500; i++) expect(await hashPresentedKey(`sk-${i}`)).toHaveLength(64);
    expect(await hashPresentedKey('sk-1234')).toBe('88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b');
    expect(await hashPresentedKey('sk-7')).toBe(await hashKey('sk-7'));
  });

  it('writes bytes as lower-case hex, two digits each', () => {
    expect(toHex(new Uint8Array([0, 1, 15, 16, 171, 255]).buffer)).toBe('00010f10abff');
    expect(toHex(new ArrayBuffer(0))).toBe('');
  });

  it('makes fresh keys of LiteLLM\'s shape: sk- and 22 base64url characters (16 random bytes), never the same twice', () => {
    const keys = Array.from({ length: 200 }, () => newPlainKey());
    for (const key of keys) expect(key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
