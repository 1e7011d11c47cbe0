/**
 * Background work that comes in bursts (building an isolate's gathered
 * telemetry, decoding and writing a Queue batch) runs on the same thread as
 * requests: it is cut into slices with a turn of the event loop between
 * them, so a request arriving meanwhile waits for one slice, not the burst
 * (measured with `npm run bench`: this is what a c=1 request's p99 sees).
 */
export function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Calls `each` on every item, yielding to requests after every `slice` of them. */
export async function inSlices<T>(items: readonly T[], slice: number, each: (item: T, index: number) => void): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % slice === 0) await yieldToRequests();
    each(items[i] as T, i);
  }
}
