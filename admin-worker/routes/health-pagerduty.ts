import { enqueueUrl } from '../../worker/telemetry/alerts/pagerduty.ts';
import { postJson } from '../../worker/telemetry/alerts/slack.ts';

/**
 * `/health/services?service=pagerduty`: a test event to the Events API v2
 * with the routing key (in the body only), at severity info, then its resolve
 * under the same dedup_key, so the check proves the key works without leaving
 * an incident open. LiteLLM's health check does not test PagerDuty; this
 * follows Tollgate's other services (send something now, report what the
 * service answered, never the key).
 */
export async function sendPagerDutyTest(env: Record<string, unknown>, routingKey: string): Promise<{ ok: true; dedupKey: string } | { ok: false; detail: string }> {
  const url = enqueueUrl(env);
  const dedupKey = `tollgate-health-check-${crypto.randomUUID()}`;
  const trigger = await postJson(url, JSON.stringify({
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: 'This is a test PagerDuty alert (from /health/services)',
      severity: 'info',
      source: 'LiteLLM Alert',
      component: 'LiteLLM',
      timestamp: new Date().toISOString(),
    },
  }));
  if (!trigger.ok) return { ok: false, detail: trigger.detail };
  const resolve = await postJson(url, JSON.stringify({ routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey }));
  if (!resolve.ok) return { ok: false, detail: `the test event was taken, its resolve was not (${resolve.detail})` };
  return { ok: true, dedupKey };
}
