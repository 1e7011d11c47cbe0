// What the Lago suites (lago-event, lago-poster, lago-poster-drops tests) share: one billed call and a fake Lago.
import { type FakeLago, startFakeLago } from '../fakes/lago.ts';
import type { LoggerSegment } from '../../admin-worker/queues/callbacks/loggers.ts';
import { deliverSegments, loggerSegment } from './logger-delivery.ts';

/** A StandardLoggingPayload of one chat call by customer-7 (a key of user-3 in team-9), costed and counted. */
export const payload = {
  id: 'call-1', call_type: 'acompletion', status: 'success', model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 100, endTime: 101.5, end_user: 'customer-7',
  metadata: { user_api_key_user_id: 'user-3', user_api_key_team_id: 'team-9' },
};

export const LAGO_TEST_API_KEY = 'lago-unit-api-key-0123456789';

/** The call `payload` under another id, with `over` replacing whole fields. */
export const call = (id: string, over: Record<string, unknown> = {}) => ({ ...payload, id, ...over });

/** The lago logger's segment of the Queue message at `origin`. */
export const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('lago', origin, payloads);

export interface LagoPosterRig {
  lago: FakeLago;
  env: Record<string, string>;
  /** Segments through the dispatcher to the fake Lago, on its settings with `over` on top. */
  deliver: (segments: LoggerSegment[], over?: Record<string, string>) => ReturnType<typeof deliverSegments>;
  /** The event Lago holds for a call and customer, if any. */
  stored: (id: string, customer?: string) => Record<string, any> | undefined;
}

/** A fake Lago on loopback taking LAGO_TEST_API_KEY, and the lago logger's settings pointing at it. */
export async function startLagoPosterRig(): Promise<LagoPosterRig> {
  const lago = await startFakeLago({ apiKey: LAGO_TEST_API_KEY });
  const env = { LAGO_API_BASE: lago.url, LAGO_API_KEY: LAGO_TEST_API_KEY, LAGO_API_EVENT_CODE: 'llm_usage' };
  return {
    lago, env,
    deliver: (segments, over = {}) => deliverSegments(segments, { ...env, ...over }),
    stored: (id, customer = 'customer-7') => lago.events.get(`${customer}\n${id}`),
  };
}
