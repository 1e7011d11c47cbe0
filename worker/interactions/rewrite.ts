import { isObject } from '../json.ts';

/** Google's interaction id as the client gets it (ids.ts), for one deployment and owner. */
export type IdShown = (googleId: string) => string;

// One SSE line longer than this passes on unread (no interaction event carries its id that deep).
const MAX_LINE_CHARS = 1024 * 1024;

/**
 * Rewrites, in place, the interaction ids an answer of Google's Interactions API carries: an interaction's
 * `id` and `previous_interaction_id` (a whole answer, or the `interaction` of a stream's lifecycle events:
 * `interaction.created`/`interaction.start`, `interaction.completed`/`interaction.complete`), and a status
 * update's `interaction_id`. Returns whether anything changed.
 */
export function rewriteIds(value: unknown, shown: IdShown): boolean {
  if (!isObject(value)) return false;
  let changed = false;
  const swap = (holder: Record<string, unknown>, field: string) => {
    const id = holder[field];
    if (typeof id === 'string' && id) {
      holder[field] = shown(id);
      changed = true;
    }
  };
  const target = isObject(value.interaction) ? value.interaction : value;
  if (target !== value || value.object === 'interaction' || 'status' in value || 'steps' in value || 'outputs' in value) {
    swap(target, 'id');
    swap(target, 'previous_interaction_id');
  }
  swap(value, 'interaction_id');
  return changed;
}

/**
 * An Interactions SSE stream with its ids rewritten (rewriteIds) as it passes: each `data:` line is read
 * and, only when it names an interaction, written anew; every other byte goes on as it came, and nothing is
 * held back beyond the current line. An upstream that breaks off errors the stream, as the original would.
 */
export function rewriteIdStream(shown: IdShown): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  const line = (text: string): string => {
    if (!text.startsWith('data:') || text.length > MAX_LINE_CHARS) return text;
    const data = text.slice(5).trim();
    if (!data.startsWith('{')) return text;
    try {
      const event = JSON.parse(data) as unknown;
      return rewriteIds(event, shown) ? `data: ${JSON.stringify(event)}` : text;
    } catch {
      return text;
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      const text = pending + decoder.decode(chunk, { stream: true });
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        pending = text;
        // A line past the bound goes on unread.
        if (pending.length > MAX_LINE_CHARS) {
          controller.enqueue(encoder.encode(pending));
          pending = '';
        }
        return;
      }
      pending = text.slice(last + 1);
      const out = text.slice(0, last + 1).split('\n').map((l) => {
        const cr = l.endsWith('\r');
        const rewritten = line(cr ? l.slice(0, -1) : l);
        return cr ? `${rewritten}\r` : rewritten;
      }).join('\n');
      controller.enqueue(encoder.encode(out));
    },
    flush(controller) {
      const rest = pending + decoder.decode();
      if (rest) controller.enqueue(encoder.encode(line(rest)));
    },
  });
}
