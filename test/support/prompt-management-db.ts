/**
 * What the stored-prompt suites (prompt-management-db and its -access, -refusals and -secrets) share, over the prompt
 * stack (prompt-management-stack.ts): the admin API called as a key, LiteLLM_PromptTable's rows, chat calls
 * naming a prompt, and Postgres's count of the table's reads.
 */
import { eventually } from './keys.ts';
import { query } from './pg-client.ts';
import { client, type Extra, sent, stack } from './prompt-management-stack.ts';
import { TEST_MASTER_KEY } from './stack.ts';

export type Json = Record<string, any>;
/** The gateway's API as `key` (the master key by default), its answer parsed. */
export async function api(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(`${stack.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? TEST_MASTER_KEY}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Json, text };
}
export const dotprompt = (content: string) => ({ prompt_integration: 'dotprompt', dotprompt_content: content });
export const rows = async (promptId: string) => query(stack.db.url, 'SELECT * FROM "LiteLLM_PromptTable" WHERE prompt_id = $1 ORDER BY version', [promptId]);
export const chat = (body: Record<string, unknown>) => client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'hello' }], ...body } as Extra);
/** The system message the provider was sent for a call naming a prompt. */
export const systemSent = async (body: Record<string, unknown>) => {
  await chat({ prompt_variables: { name: 'Ada' }, ...body });
  return (sent().messages as { role: string; content: string }[])[0]!.content;
};
/** Waits until calls naming the prompt see `expected` (the gateway re-reads stored prompts within seconds). */
export const appliesSoon = (body: Record<string, unknown>, expected: string) => eventually(async () => ((await systemSent(body)) === expected ? true : undefined));
/** Scans of LiteLLM_PromptTable so far: Postgres counts a connection's when it ends, and the Workers end theirs with each request. */
export const promptTableScans = async () => Number((await query(stack.db.url, `SELECT seq_scan + COALESCE(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'LiteLLM_PromptTable'`))[0]!.n);
/** The count once no read is still landing (one taken 1 s apart from the last). */
export async function settledScans(): Promise<number> {
  for (let last = await promptTableScans(); ;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = await promptTableScans();
    if (now === last) return now;
    last = now;
  }
}
export async function generateKey(body: Record<string, unknown>): Promise<string> {
  return (await api('/key/generate', { method: 'POST', body })).json.key as string;
}
