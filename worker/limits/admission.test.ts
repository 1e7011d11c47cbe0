import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { bounded } from './bounded.ts';

const target = { kind: 'key' as const, id: 'abc' };

describe('a limiter call', () => {
  it('that never answers becomes a fast 503, not a hang', async () => {
    const started = Date.now();
    const err = await bounded(new Promise(() => undefined), target, 50).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, type: 'service_unavailable', headers: { 'retry-after': '1' } });
    expect((err as GatewayError).message).toContain('overloaded');
  });

  it('whose object reports itself overloaded becomes a 503', async () => {
    const overloaded = Object.assign(new Error('Durable Object is overloaded. Too many requests queued.'), { overloaded: true });
    const err = await bounded(Promise.reject(overloaded), target, 1000).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, type: 'service_unavailable' });
  });

  it('that fails otherwise is a 503 too, and an answer passes through', async () => {
    await expect(bounded(Promise.reject(new Error('Network connection lost.')), target, 1000)).rejects.toMatchObject({ status: 503 });
    await expect(bounded(Promise.resolve(42), target, 1000)).resolves.toBe(42);
  });
});
