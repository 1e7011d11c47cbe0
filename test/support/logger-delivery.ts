import { deliverLoggers, type LoggerSegment } from '../../admin-worker/queues/callbacks/loggers.ts';

const encoder = new TextEncoder();

/** One logger's segment of a Queue message: its payloads as the gateway packs them (JSON, comma-joined). */
export const loggerSegment = (name: string, origin: number, payloads: readonly object[]): LoggerSegment =>
  ({ bytes: encoder.encode(payloads.map((p) => JSON.stringify(p)).join(',')), events: payloads.length, name, origin });

/**
 * Segments through the dispatcher, as the callbacks consumer sends them: the failures it reports (as
 * `<callback>: <reason>`) and the origins of the messages it retries.
 */
export async function deliverSegments(segments: LoggerSegment[], env: Parameters<typeof deliverLoggers>[1]): Promise<{ reports: string[]; retried: number[] }> {
  const reports: string[] = [];
  const retried: number[] = [];
  await deliverLoggers(segments, env, (callback, error) => reports.push(`${callback}: ${error.message}`), (origin) => retried.push(origin));
  return { reports, retried };
}
