import { describe, expect, it } from 'vitest';
import { storedRowsIfAny } from './pg-code.ts';

describe('rows of a table that may not be there yet', () => {
  it('are none without DATABASE_URL (nothing read) or before the migration, and a real failure still fails', async () => {
    let reads = 0;
    expect(await storedRowsIfAny({}, async () => { reads++; return ['row']; }, [])).toEqual([]);
    expect(reads).toBe(0);
    const undefinedTable = Object.assign(new Error('Failed query'), { cause: Object.assign(new Error('relation "LiteLLM_PromptTable" does not exist'), { code: '42P01' }) });
    expect(await storedRowsIfAny({ DATABASE_URL: 'postgres://x' }, () => Promise.reject(undefinedTable), [])).toEqual([]);
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(storedRowsIfAny({ DATABASE_URL: 'postgres://x' }, () => Promise.reject(down), [])).rejects.toBe(down);
    expect(await storedRowsIfAny({ DATABASE_URL: 'postgres://x' }, async () => ['row'], [])).toEqual(['row']);
  });
});
