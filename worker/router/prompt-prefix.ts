import { toHex } from '../auth/secrets.ts';
import { canonicalJson, type Json } from '../json.ts';

/**
 * The cacheable prefix of a chat prompt, for `optional_pre_call_checks: [prompt_caching]` (affinity.ts): as
 * LiteLLM's PromptCachingCache, every message up to and including the last content block (or message) marked
 * `cache_control: {type: "ephemeral"}`, and the tools up to the last one so marked. Two calls whose prefixes
 * are the same hit the same provider-side cache, so they are sent to the same deployment.
 */

/** LiteLLM's lowest minimum of a cacheable prompt (DEFAULT_MINIMUM_PROMPT_CACHE_TOKEN_COUNT): below it nothing is pinned. */
export const MIN_CACHEABLE_TOKENS = 1024;


const ephemeral = (v: unknown): v is Json => !!v && typeof v === 'object' && (v as Json).type === 'ephemeral';

/** The messages up to and including the last one carrying a cache_control block (trimmed after that block); [] when none does. */
export function cacheablePrefix(messages: readonly unknown[]): Json[] {
  let lastMessage = -1;
  let lastBlock: number | undefined;
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object') return;
    const message = m as Json;
    if (ephemeral(message.cache_control)) {
      lastMessage = i;
      lastBlock = undefined;
    }
    if (!Array.isArray(message.content)) return;
    message.content.forEach((block, j) => {
      if (block && typeof block === 'object' && ephemeral((block as Json).cache_control)) {
        lastMessage = i;
        lastBlock = j;
      }
    });
  });
  if (lastMessage < 0) return [];
  const prefix = messages.slice(0, lastMessage + 1) as Json[];
  const last = prefix[lastMessage]!;
  if (lastBlock !== undefined && Array.isArray(last.content)) prefix[lastMessage] = { ...last, content: last.content.slice(0, lastBlock + 1) };
  return prefix;
}

/** The tools up to and including the last one marked cache_control. */
export function cacheableTools(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) return [];
  for (let i = tools.length - 1; i >= 0; i--) {
    const tool = tools[i] as Json | null;
    if (tool && typeof tool === 'object' && ephemeral(tool.cache_control)) return tools.slice(0, i + 1);
  }
  return [];
}

/**
 * How long a prefix stays cached at the provider: an hour when every marker asks for `ttl: "1h"`, else five
 * minutes (LiteLLM takes the shortest, so a pin never outlives the cached segment).
 */
export function prefixTtlMs(prefix: readonly Json[], tools: readonly unknown[]): number {
  const markers: Json[] = [];
  for (const m of prefix) {
    if (ephemeral(m.cache_control)) markers.push(m.cache_control);
    if (Array.isArray(m.content)) for (const b of m.content) if (b && typeof b === 'object' && ephemeral((b as Json).cache_control)) markers.push((b as Json).cache_control as Json);
  }
  for (const t of tools) if (t && typeof t === 'object' && ephemeral((t as Json).cache_control)) markers.push((t as Json).cache_control as Json);
  return markers.length && markers.every((c) => c.ttl === '1h') ? 3_600_000 : 300_000;
}

/**
 * The pin key of a chat body's cacheable prefix (a SHA-256 of it) and how long it lives; undefined when the
 * body marks nothing cacheable.
 */
export async function promptPrefixKey(body: Json): Promise<{ key: string; ttlMs: number } | undefined> {
  const prefix = Array.isArray(body.messages) ? cacheablePrefix(body.messages) : [];
  const tools = cacheableTools(body.tools);
  if (!prefix.length && !tools.length) return undefined;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson({ messages: prefix, tools })));
  return { key: `p:${toHex(digest)}`, ttlMs: prefixTtlMs(prefix, tools) };
}
