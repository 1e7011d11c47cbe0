import { replayAsStream } from '../cache/replay.ts';
import type { CachedAnswer } from '../cache/store.ts';
import type { Admission } from '../limits/admission-answer.ts';
import { callHeaders, keyHeaders, timingHeaders } from './call-helpers.ts';
import type { CallContext } from './call-context.ts';

/**
 * A cache hit's answer: the stored JSON, or replayed as a stream when the
 * request streams, with LiteLLM's headers (`x-litellm-cache-key`, a cost of
 * 0) and Tollgate's own time to them (x-litellm-overhead-duration-ms).
 */
export function cachedAnswer(ctx: CallContext, hit: CachedAnswer, cacheKey: string, admission: Admission | undefined): { response: Response; overheadMs: number } {
  const headers: Record<string, string> = { ...admission?.headers, ...callHeaders(ctx, ''), 'x-litellm-cache-key': cacheKey, 'x-litellm-response-cost': '0' };
  if (ctx.caller.kind === 'key') keyHeaders(headers, ctx.caller.policy, ctx.caller.policy.spend);
  const overheadMs = timingHeaders(headers, ctx.startedAt, 0);
  const includeUsage = (ctx.body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true;
  const response = ctx.stream
    ? new Response(replayAsStream(hit, includeUsage), { headers: { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
    : new Response(hit.json, { headers: { ...headers, 'content-type': 'application/json' } });
  return { response, overheadMs };
}
