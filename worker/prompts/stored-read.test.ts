import { describe, expect, it } from 'vitest';
import { StampedRows } from '../db/stamped.ts';
import type { PromptSpec } from './schema.ts';
import { type OpenedVersion, type PromptContent, type PromptRowsRead, type PromptStamp, readStoredPrompts } from './stored-read.ts';

/** A table as the two reads see it, and what each refresh asked for. */
function table(rows: (PromptStamp & PromptContent)[]) {
  const asked: (string[] | 'all')[] = [];
  const read: PromptRowsRead = {
    stamps: async () => rows.map(({ id, prompt_id, version, updated_at }) => ({ id, prompt_id, version, updated_at })),
    contents: async (ids) => {
      asked.push(ids ? [...ids] : 'all');
      return rows.filter((r) => !ids || ids.includes(r.id)).map(({ id, litellm_params, prompt_info }) => ({ id, litellm_params, prompt_info }));
    },
  };
  return { rows, asked, read };
}
const row = (id: string, version: number, text: string, at: number) => ({
  id, prompt_id: 'greet', version, updated_at: new Date(at), litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: text }, prompt_info: null,
});
const textOf = (v: unknown) => (v as PromptSpec).litellm_params.dotprompt_content;

describe('a refresh of the stored prompts', () => {
  it('reads the params of new and changed rows only; an unchanged row keeps what was made of it, a deleted one is dropped', async () => {
    const t = table([row('a', 1, 'one', 1), row('b', 2, 'two', 1), row('c', 3, 'three', 1)]);
    const kept = new StampedRows<OpenedVersion>();
    const first = await readStoredPrompts(t.read, kept, undefined, {});
    expect([...first.get('greet')!.values()].map(textOf)).toEqual(['one', 'two', 'three']);
    // A PATCH (updated_at moved) of b; c deleted; d new.
    t.rows[1] = row('b', 2, 'two, patched', 2);
    t.rows.splice(2, 1, row('d', 4, 'four', 2));
    const second = await readStoredPrompts(t.read, kept, undefined, {});
    expect(t.asked).toEqual(['all', ['b', 'd']]);
    expect([...second.get('greet')!.entries()].map(([v, s]) => [v, textOf(s)])).toEqual([[1, 'one'], [2, 'two, patched'], [4, 'four']]);
    expect(second.get('greet')!.get(1)).toBe(first.get('greet')!.get(1));
    await readStoredPrompts(t.read, kept, undefined, {});
    expect(t.asked.length).toBe(2);
  });

  it("keeps a row the gateway's environment lacks a variable for, to refuse calls naming it", async () => {
    const t = table([{ ...row('a', 1, '', 1), litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/PROMPT_BASE' } }]);
    const read = await readStoredPrompts(t.read, new StampedRows<OpenedVersion>(), undefined, {});
    expect(read.get('greet')!.get(1)).toEqual({ integration: 'generic_prompt_management', needsEnv: 'litellm_params.api_base is os.environ/PROMPT_BASE, which is not set on the gateway' });
  });
});
