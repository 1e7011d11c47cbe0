/**
 * A fake PagerDuty Events API v2 (`POST /v2/enqueue`) on loopback: checks an
 * event as the real one does (routing_key, event_action, a trigger's
 * payload.summary/source/severity), answers 202 `{status, message, dedup_key}`
 * or 400 `{status: "invalid event", ...}`, records what it took, and can be told
 * to fail the next N posts (429 or 5xx) to exercise the sender's retries.
 */
import { randomUUID } from 'node:crypto';
import { serveBodies, waitForMatches } from './fake-server.ts';

export interface PagerDutyEvent {
  routing_key?: string;
  event_action?: string;
  dedup_key?: string;
  payload?: { summary?: string; severity?: string; source?: string; component?: string; custom_details?: { recent_errors?: Record<string, unknown>[] } };
}

export interface FakePagerDuty {
  /** The base to set as PAGERDUTY_API_BASE (events go to `${url}/v2/enqueue`). */
  url: string;
  /** Events accepted (202), in arrival order. */
  events: PagerDutyEvent[];
  attempts: number;
  failNext(count: number, status?: number): void;
  waitFor(match: (e: PagerDutyEvent) => boolean, count?: number, timeoutMs?: number): Promise<PagerDutyEvent[]>;
  close(): Promise<void>;
}

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const events: PagerDutyEvent[] = [];
  const state = { attempts: 0, fail: { count: 0, status: 500 } };
  const server = await serveBodies('fake PagerDuty', (req, res, raw) => {
    state.attempts++;
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || req.url !== '/v2/enqueue') return json(404, { status: 'not found' });
    if (state.fail.count > 0) {
      state.fail.count--;
      return state.fail.status === 429
        ? json(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' })
        : json(state.fail.status, { status: 'unavailable' });
    }
    let event: PagerDutyEvent;
    try {
      event = JSON.parse(raw.toString('utf8')) as PagerDutyEvent;
    } catch {
      return json(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Malformed JSON'] });
    }
    const errors: string[] = [];
    if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) errors.push("'routing_key' is invalid");
    if (!['trigger', 'acknowledge', 'resolve'].includes(event.event_action ?? '')) errors.push("'event_action' is invalid");
    if (event.event_action === 'trigger') {
      if (!event.payload?.summary) errors.push("'payload.summary' is missing or blank");
      if (!event.payload?.source) errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.has(event.payload?.severity ?? '')) errors.push("'payload.severity' is invalid");
    } else if (!event.dedup_key) errors.push("'dedup_key' is missing or blank");
    if (errors.length) return json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
    events.push(event);
    json(202, { status: 'success', message: 'Event processed', dedup_key: event.dedup_key ?? randomUUID().replace(/-/g, '') });
  });
  return {
    url: server.url,
    events,
    get attempts() {
      return state.attempts;
    },
    failNext(count, status = 500) {
      state.fail = { count, status };
    },
    waitFor: (match, count = 1, timeoutMs = 15_000) =>
      waitForMatches('fake PagerDuty', events, match, count, timeoutMs, (all) => all.map((e) => e.payload?.summary ?? e.event_action)),
    close: server.close,
  };
}
