/**
 * A Worker opens 6 connections at a time and queues the rest, and a request's timeout runs from the moment
 * fetch() is called: thousands of requests started at once (S3 writes one object a request) would time out in
 * the queue, unsent, and have their messages retried forever. The dispatcher sends through this pool instead,
 * so a request is made (and its timeout started) only when a connection is free for it.
 */

/** Runs tasks at most `limit` at a time, in the order they were queued; a task's failure frees its place too. */
export function requestPool(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // The place passes straight to the next task waiting, else it is freed.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
