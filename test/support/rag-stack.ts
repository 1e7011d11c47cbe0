import { eventually, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { useVectorStoresStack } from './vector-stores.ts';

/**
 * What the RAG API tests share (`/v1/rag/ingest`, `/v1/rag/query` through workerd, over the fake OpenAI Files and
 * Vector Stores): the vector stores stack for one test file, a document, a key that may call both groups of
 * account A, a raw POST for the error envelope and the headers, and the key's spend rows.
 */

export const DOC = 'Returns are accepted within 30 days.\nShipping takes five business days.\nThe warranty covers two years.';
export const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Starts the stack for one test file (the fake reset before each test), with the RAG helpers on it. */
export function useRagStack() {
  const stack = useVectorStoresStack();
  const { env, client, newKey } = stack;

  /** A key (and its openai client) that may call both groups of account A. */
  async function ragClient(user: string, models = ['batch-a', 'batch-a-cheap']) {
    const key = await newKey({ models, user_id: user });
    return { key, openai: client(key) };
  }

  /** A raw POST to the gateway, for the error envelope and the headers. */
  async function post(key: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${env.stack.url}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, ...(body instanceof FormData ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body instanceof FormData ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
  }

  /** The key's spend rows, once there are at least `count`. */
  const spendRows = (key: string, count: number) => eventually(async () => {
    const rows = await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"', [sha256(key)]);
    return rows.length >= count ? rows : undefined;
  });

  return { ...stack, ragClient, post, spendRows };
}
