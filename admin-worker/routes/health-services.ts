import { Hono } from 'hono';
import { z } from 'zod';
import { runtimeConfig } from '../../worker/config/runtime.ts';
import { GatewayError } from '../../worker/errors.ts';
import { alertSettings } from '../../worker/telemetry/alerts/settings.ts';
import { budgetWebhookEvent } from '../../worker/telemetry/alerts/messages.ts';
import { postJson, postToSlack } from '../../worker/telemetry/alerts/slack.ts';
import type { AlertType } from '../../worker/telemetry/alerts/types.ts';
import { sendPagerDutyTest } from './health-pagerduty.ts';
import { requireProxyAdmin } from '../lib/auth.ts';
import { log } from '../../worker/telemetry/log.ts';
import type { AdminBindings } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, parseQuery } from '../lib/validation.ts';
import { credentialsOf, type LangfuseCredentials } from '../queues/callbacks/credentials.ts';
import { postIngestion } from '../queues/callbacks/ingestion.ts';
import { exportSecrets, exportTimeout, postSpans } from '../queues/callbacks/otlp.ts';
import { otlpTarget } from '../queues/callbacks/otlp-target.ts';
import { type OtelExporter, vendorTarget } from '../queues/callbacks/otel-vendors.ts';
import { OTLP_VENDORS } from '../queues/callbacks/otlp-vendors.ts';
import { sendSpendReportsNow } from '../jobs/spend-report.ts';
import { checkLogger, LOGGER_SERVICES } from './health-loggers.ts';

/**
 * LiteLLM's `GET /health/services?service=...` (admin only): proves a
 * logging or alerting service is set up by sending it something now, from
 * the admin Worker, as the consumers and alerting reach it: Langfuse a test
 * trace, the OpenTelemetry collector a test span, Slack a test alert, the alert webhook a test budget event, PagerDuty a test event (health-pagerduty.ts), a
 * standard logger (datadog, generic_api, s3, langsmith, gcs_bucket) a test payload (health-loggers.ts). What a
 * service answers comes back as a 503; its URL and credentials never do.
 */
export const healthServicesRoutes = new Hono<AdminBindings>();

const SERVED = ['langfuse', 'otel', 'langfuse_otel', 'arize_phoenix', 'arize', ...OTLP_VENDORS, ...LOGGER_SERVICES, 'slack', 'slack_budget_alerts', 'webhook', 'pagerduty'];
/** The OpenTelemetry-based vendor callbacks, tested with a span to their own collector (otel-vendors.ts). */
const OTEL_VENDORS: readonly string[] = [...(['langfuse_otel', 'arize_phoenix', 'arize'] satisfies OtelExporter[]), ...OTLP_VENDORS];
const ALERT_TYPES: AlertType[] = ['budget_alerts', 'llm_too_slow', 'cooldown_deployment', 'callback_failure', 'cache_unavailable', 'spend_reports'];
const TEST_TIMEOUT_MS = 10_000;

const servicesQuery = z.object({ service: z.string().max(100).optional().describe(`one of ${SERVED.join(', ')}`) });

/** One test trace (`litellm-health-check`) to a Langfuse project, with its id, or why Langfuse did not take it. */
export async function sendTestTrace(credentials: LangfuseCredentials, from: string): Promise<{ ok: true; id: string } | { ok: false; reason: string }> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const event = {
    id: `${id}-trace`, timestamp: now, type: 'trace-create',
    body: { id, timestamp: now, name: 'litellm-health-check', input: `Test trace from ${from}`, output: 'This is a mock response', tags: ['health-check'] },
  };
  const result = await postIngestion(credentials, [{ bytes: new TextEncoder().encode(JSON.stringify(event)), events: 1 }], TEST_TIMEOUT_MS);
  if (!result.ok) return result;
  const refused = result.rejected[0];
  if (refused || result.retry.size) return { ok: false, reason: refused ? `${refused.status} ${refused.message}` : 'a retryable error' };
  return { ok: true, id };
}

/** LiteLLM's 422 for a service the config does not turn on; naming the variable when it is on but the admin Worker lacks it. */
function notSetUp(service: string, alerting: 'slack' | 'webhook' | 'pagerduty', variable: string, env: Record<string, unknown>): GatewayError {
  let on = false;
  try {
    on = (runtimeConfig(env).config.general_settings.alerting ?? []).includes(alerting);
  } catch {
    // no config: not on
  }
  const message = on
    ? `"${service}" is in general_settings.alerting, but ${variable} is not set${alerting === 'pagerduty' ? '' : ' (or not an http(s) URL)'} for the admin Worker. Unable to test this.`
    : `"${service}" not in proxy config: general_settings. Unable to test this.`;
  return new GatewayError(message, { status: 422, type: 'bad_request_error', param: 'service' });
}

const unavailable = (message: string) => new GatewayError(message, { status: 503, type: 'service_unavailable' });

describeRoute({ method: 'get', path: '/health/services', summary: `Send a logging or alerting service a test event now (${SERVED.join(', ')})`, tag: 'health', query: servicesQuery });
healthServicesRoutes.get('/health/services', async (c) => {
  requireProxyAdmin(c, 'test logging and alerting services');
  const { service } = parseQuery(c, servicesQuery);
  if (!service) throw badRequest('Service must be specified.', 'service');
  const env = c.env as Record<string, unknown>;
  if (service === 'langfuse') {
    const resolved = credentialsOf(undefined, c.env);
    if (!resolved.ok) throw new GatewayError(`"langfuse" is not set up: ${resolved.reason}. Unable to test this.`, { status: 422, type: 'bad_request_error', param: 'service' });
    const sent = await sendTestTrace(resolved.credentials, '/health/services');
    if (!sent.ok) throw unavailable(`Langfuse did not take the test trace: ${sent.reason}`);
    return c.json({ status: 'success', message: `Test trace ${sent.id} sent - check langfuse.` });
  }
  if (service === 'otel' || OTEL_VENDORS.includes(service)) {
    const target = service === 'otel' ? otlpTarget(c.env) : vendorTarget(c.env, service as OtelExporter);
    if ('error' in target) throw new GatewayError(`"${service}" is not set up: ${target.error}. Unable to test this.`, { status: 422, type: 'bad_request_error', param: 'service' });
    const traceId = crypto.randomUUID().replace(/-/g, '');
    const now = Date.now();
    const span = {
      traceId, spanId: traceId.slice(16), name: 'litellm-health-check', kind: 1, startTimeUnixNano: `${now}000000`, endTimeUnixNano: `${now}000000`,
      attributes: [{ key: 'health_check', value: { stringValue: 'Test span from /health/services' } }], status: { code: 1 },
    };
    // What the collector answers is quoted scrubbed of every credential the admin Worker holds.
    const sent = await postSpans(target, [{ bytes: new TextEncoder().encode(JSON.stringify(span)), events: 1 }], Math.min(exportTimeout(c.env), TEST_TIMEOUT_MS), () => exportSecrets(c.env, target));
    if (!sent.ok) throw unavailable(`The OpenTelemetry collector did not take the test span: ${sent.reason}`);
    return c.json({ status: 'success', message: `Test span (trace ${traceId}) sent - check your OpenTelemetry backend.` });
  }
  if (LOGGER_SERVICES.includes(service)) {
    const checked = await checkLogger(service, env);
    if (checked.kind === 'not_set_up') throw new GatewayError(checked.message, { status: 422, type: 'bad_request_error', param: 'service' });
    if (checked.kind === 'refused') throw unavailable(checked.message);
    return c.json({ status: 'success', message: `Test payload ${checked.id} sent - check ${service}.` });
  }
  const settings = alertSettings(env);
  if (service === 'slack' || service === 'slack_budget_alerts') {
    if (!settings.slack || !settings.webhookUrl) throw notSetUp(service, 'slack', 'SLACK_WEBHOOK_URL', env);
    const sent = await postToSlack(settings.webhookUrl, 'This is a test slack alert message (from /health/services)');
    if (!sent.ok) throw unavailable(`Slack did not take the test alert: ${sent.detail}`);
    // As LiteLLM does: the spend reports too, now (when `spend_reports` is on), after the answer.
    const general = runtimeConfig(env).config.general_settings;
    c.executionCtx.waitUntil(sendSpendReportsNow(c.env, general, Date.now()).catch((err: unknown) => log.error('spend report (/health/services):', err instanceof Error ? err.message : String(err))));
    return c.json({
      status: 'success',
      alert_types: settings.types ? [...settings.types] : ALERT_TYPES,
      message: 'Mock Slack Alert sent, verify Slack Alert Received on your channel',
    });
  }
  if (service === 'webhook') {
    if (!settings.webhook || !settings.genericWebhookUrl) throw notSetUp(service, 'webhook', 'WEBHOOK_URL', env);
    // LiteLLM's test: a budget event for the calling key, spend 1 against a budget of 0.
    const event = budgetWebhookEvent('key', c.get('caller').token, { alias: 'health-check test', userId: null, teamId: null, organizationId: null }, 1, 0, 1);
    const sent = await postJson(settings.genericWebhookUrl, event);
    if (!sent.ok) throw unavailable(`The webhook did not take the test event: ${sent.detail}`);
    return c.json({ status: 'success', message: 'Mock webhook event sent, verify it was received' });
  }
  if (service === 'pagerduty') {
    if (!settings.pagerduty || typeof c.env.PAGERDUTY_API_KEY !== 'string') throw notSetUp(service, 'pagerduty', 'PAGERDUTY_API_KEY', env);
    const sent = await sendPagerDutyTest(env, c.env.PAGERDUTY_API_KEY);
    if (!sent.ok) throw unavailable(`PagerDuty did not take the test event: ${sent.detail}`);
    return c.json({ status: 'success', message: `Test PagerDuty event ${sent.dedupKey} sent (and resolved) - check your PagerDuty service.` });
  }
  throw badRequest(`Service ${service.slice(0, 100)} is not one Tollgate can test; it tests ${SERVED.join(', ')}`, 'service');
});
