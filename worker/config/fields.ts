import { z } from 'zod';

/**
 * Leaf types for config.yaml. Values that came from `os.environ/NAME` are
 * strings, so numbers and booleans accept their string spelling too
 * (`REDIS_PORT=6379`, `STORE_MODEL_IN_DB=True`).
 */
export const num = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
  z.number({ error: 'expected a number' }),
);

export const nonNegative = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
  z.number({ error: 'expected a number' }).min(0, 'must not be negative'),
);

export const posInt = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
  z.number({ error: 'expected a whole number' }).int('expected a whole number').min(0, 'must not be negative'),
);

export const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v;
}, z.boolean({ error: 'expected true or false' }));

export const str = z.string({ error: 'expected a string' });

/** LiteLLM's duration strings: `30s`, `30m`, `30h`, `30d`, `1w`, `1mo`. */
export const DURATION = /^(\d+)(s|m|h|d|w|mo)$/;
export const duration = str.regex(DURATION, 'expected a duration like "30s", "30m", "30h", "30d", "1w" or "1mo"');

export const strList = z.array(str, { error: 'expected a list of strings' });

/** `[{group: [fallback, ...]}, ...]` as LiteLLM writes fallbacks. */
export const fallbackList = z.array(z.record(str, strList), { error: 'expected a list of {model_group: [fallbacks]}' });
