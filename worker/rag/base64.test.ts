import { describe, expect, it } from 'vitest';
import { base64Bytes, chunkedBase64 } from './base64.ts';

describe('base64 documents of /rag/ingest', () => {
  it('decode across chunk boundaries, padded or not, as Buffer does', () => {
    for (const size of [0, 1, 2, 3, 4, 5, 1024 * 1024 * 3 / 4 + 1, 2 * 1024 * 1024 + 7]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + 7) % 256));
      const padded = bytes.toString('base64');
      expect(Buffer.from(chunkedBase64(padded)).equals(bytes)).toBe(true);
      expect(Buffer.from(chunkedBase64(padded.replace(/=+$/, ''))).equals(bytes)).toBe(true);
      expect(Buffer.from(base64Bytes(padded)).equals(bytes)).toBe(true);
    }
  });

  it('refuse text that is not base64', () => {
    expect(() => chunkedBase64('abcde')).toThrow();
    expect(() => chunkedBase64('ab$d')).toThrow();
  });
});
