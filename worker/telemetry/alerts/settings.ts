import { runtimeConfig } from '../../config/runtime.ts';
import type { AlertType } from './types.ts';
import { log } from '../log.ts';
import { pagerDutySettings, type PagerDutySettings } from './pagerduty.ts';

/** LiteLLM's default `alerting_threshold` (seconds). */
export const DEFAULT_ALERTING_THRESHOLD_S = 300;

export interface AlertSettings {
  /** `general_settings.alerting` names "slack" and a webhook URL is set. */
  slack: boolean;
  webhookUrl: string | undefined;
  /** `general_settings.alerting` names "webhook" and WEBHOOK_URL is set: budget events as JSON (LiteLLM's WebhookEvent). */
  webhook: boolean;
  genericWebhookUrl: string | undefined;
  /** `general_settings.alerting_threshold`: a request slower than this (seconds) is a slow request. */
  thresholdS: number;
  /** `general_settings.alert_types`, when set: only these are sent. */
  types: ReadonlySet<string> | null;
  /** The config sets a proxy-wide budget (checked like a key's). */
  globalBudget: boolean;
  /** `alerting` names "pagerduty" and PAGERDUTY_API_KEY is set: its thresholds (`alerting_args`); null when off. */
  pagerduty: PagerDutySettings | null;
}

const OFF: AlertSettings = { slack: false, webhookUrl: undefined, webhook: false, genericWebhookUrl: undefined, thresholdS: DEFAULT_ALERTING_THRESHOLD_S, types: null, globalBudget: false, pagerduty: null };

const cache = new WeakMap<object, AlertSettings>();

/**
 * Alerting as the config and environment set it: `alerting: ["slack"]`,
 * `SLACK_WEBHOOK_URL` (a Worker secret, or `environment_variables` in
 * config.yaml, which config-env.ts puts in every env), `alerting_threshold`,
 * `alert_types`. Read once per isolate; a config that does not load turns
 * alerting off (every request fails then anyway).
 */
export function alertSettings(env: Record<string, unknown>): AlertSettings {
  const known = cache.get(env);
  if (known) return known;
  let settings = OFF;
  try {
    const { config } = runtimeConfig(env);
    const general = config.general_settings;
    const webhookUrl = validWebhook(typeof env.SLACK_WEBHOOK_URL === 'string' ? env.SLACK_WEBHOOK_URL : undefined);
    const wantsSlack = (general.alerting ?? []).includes('slack');
    if (wantsSlack && !webhookUrl) log.warn('general_settings.alerting names "slack" but SLACK_WEBHOOK_URL is not set (or not an http(s) URL): no Slack alerts will be sent');
    const genericWebhookUrl = validWebhook(typeof env.WEBHOOK_URL === 'string' ? env.WEBHOOK_URL : undefined);
    const wantsWebhook = (general.alerting ?? []).includes('webhook');
    if (wantsWebhook && !genericWebhookUrl) log.warn('general_settings.alerting names "webhook" but WEBHOOK_URL is not set (or not an http(s) URL): no webhook alerts will be sent');
    const wantsPagerDuty = (general.alerting ?? []).includes('pagerduty');
    const pagerDutyKey = typeof env.PAGERDUTY_API_KEY === 'string' && env.PAGERDUTY_API_KEY !== '';
    if (wantsPagerDuty && !pagerDutyKey) log.warn('general_settings.alerting names "pagerduty" but PAGERDUTY_API_KEY is not set: no PagerDuty alerts will be sent');
    settings = {
      slack: wantsSlack && webhookUrl !== undefined,
      webhookUrl,
      webhook: wantsWebhook && genericWebhookUrl !== undefined,
      genericWebhookUrl,
      thresholdS: general.alerting_threshold ?? DEFAULT_ALERTING_THRESHOLD_S,
      types: general.alert_types?.length ? new Set(general.alert_types) : null,
      globalBudget: (general.max_budget ?? config.litellm_settings.max_budget) !== undefined,
      pagerduty: wantsPagerDuty && pagerDutyKey ? pagerDutySettings(general.alerting_args) : null,
    };
  } catch {
    settings = OFF;
  }
  cache.set(env, settings);
  return settings;
}

export function alertEnabled(settings: AlertSettings, type: AlertType): boolean {
  return settings.slack && (settings.types === null || settings.types.has(type));
}

/** Whether budget events go to WEBHOOK_URL (LiteLLM's webhook alerting carries budget events only). */
export function webhookEnabled(settings: AlertSettings): boolean {
  return settings.webhook && (settings.types === null || settings.types.has('budget_alerts'));
}

function validWebhook(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}
