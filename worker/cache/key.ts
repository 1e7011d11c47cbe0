import { toHex } from '../auth/secrets.ts';
import { canonicalJson as canonical } from '../json.ts';

/** Request fields that do not change the answer: never part of a cache key. */
const IGNORED = new Set([
  'stream', 'stream_options', 'user', 'metadata', 'litellm_metadata', 'cache', 'caching', 'tags', 'fallbacks',
  'num_retries', 'timeout', 'stream_timeout', 'mock_testing_fallbacks', 'no-log', 'model', 'litellm_session_id',
]);

/** Values equal to the provider default are dropped, so `{"temperature": 1}` and no temperature share an entry. */
const DEFAULTS: Record<string, unknown> = {
  temperature: 1, top_p: 1, n: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, echo: false,
  encoding_format: 'float', parallel_tool_calls: true,
};

/**
 * The cache key of a request: a SHA-256 of its model group and the fields
 * that change the answer, normalised (key order, defaults, nulls), prefixed
 * by the namespace when one is set. The caller's virtual key is not part of
 * it: identical requests from different keys share an answer unless a
 * namespace says otherwise.
 */
export async function cacheKey(group: string, body: Record<string, unknown>, namespace?: string): Promise<string> {
  const fields: Record<string, unknown> = { model: group };
  for (const [k, v] of Object.entries(body)) {
    if (IGNORED.has(k) || v === null || v === undefined) continue;
    if (k in DEFAULTS && canonical(DEFAULTS[k]) === canonical(v)) continue;
    fields[k] = v;
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical(fields)));
  return `${namespace ? `${namespace}:` : ''}tollgate:${toHex(digest)}`;
}
