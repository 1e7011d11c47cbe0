import type { GatewayEnv } from '../../env.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import { notePagerDutyCall } from '../alerts/pagerduty-call.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { checkBudget, health, inc, observe, raiseAlert, scheduleFlush, SignedLabels } from './buffer.ts';
import { callerLabels, deploymentLabels, exceptionClass, isDeploymentFailure, type LabelValues, ROUTES, statusLabel } from './labels.ts';
import { callCustomLabels } from './custom-labels.ts';
import { M } from './registry.ts';
import { runtimeConfig } from '../../config/runtime.ts';
import { PROVIDER_PREFIX, providerBudget } from '../../limits/router-budgets.ts';

/**
 * The metrics and alerts sink: one finished call becomes a handful of
 * buffered counter and histogram updates (no I/O), the entities it was
 * charged to are queued for a budget check, and a call slower than
 * `alerting_threshold` becomes an alert candidate. The buffer ships within
 * about a second (metrics/buffer.ts).
 */
export function recordCall(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const error = event.error;
  const record = event.record;
  const config = runtimeConfig(env).config;
  // litellm_settings.custom_prometheus_metadata_labels: one property check when unset.
  const entries = config.litellm_settings.custom_prometheus_metadata_labels;
  const extra = entries ? callCustomLabels(entries, event.caller, event.body, event.headers) : undefined;
  // The label values of every series below, known by what they are made of (see SignedLabels).
  const deploymentSig = signature(event);
  // JSON: a value is the client's and may hold the separator; two calls' values must not read alike.
  const sig = extra ? `${deploymentSig}\u0001${JSON.stringify(extra)}` : deploymentSig;
  let values: LabelValues | undefined;
  const base = new SignedLabels(sig, () => (values ??= { ...callerLabels(event.caller), ...deploymentLabels(event.deployment), route: ROUTES[event.endpoint] }));
  const deployment = new SignedLabels(deploymentSig, () => deploymentLabels(event.deployment));
  const status = error ? error.status : 200;

  inc(M.proxyTotal, new SignedLabels(`${sig}\u0001${status}`, () => ({ ...base.values(), status_code: statusLabel(status) })), 1, extra);
  inc(M.deploymentTotal, base, 1, extra);
  if (error) {
    const failure = { ...base.values(), exception_status: statusLabel(error.status), exception_class: exceptionClass(error, event.deployment.provider) };
    inc(M.proxyFailed, failure, 1, extra);
    inc(M.deploymentFailure, failure, 1, extra);
    if (isDeploymentFailure(error)) health(M.deploymentState, deployment, { fail: 1 });
  } else {
    inc(M.deploymentSuccess, base, 1, extra);
    health(M.deploymentState, deployment, { ok: 1 });
  }
  inc(M.spend, base, record.spend, extra);
  inc(M.totalTokens, base, record.total_tokens, extra);
  inc(M.inputTokens, base, record.prompt_tokens, extra);
  inc(M.outputTokens, base, record.completion_tokens, extra);

  const totalMs = Math.max(0, event.finishedAt - event.startedAt);
  const overheadMs = event.overheadMs;
  // A Realtime session lasts as long as a conversation: its length is not a latency.
  if (!error && event.endpoint !== 'realtime') {
    // LiteLLM observes latencies of successful calls only.
    observe(M.requestLatency, base, totalMs / 1000, extra);
    observe(M.llmLatency, base, Math.max(0, totalMs - (overheadMs ?? 0)) / 1000, extra);
    if (overheadMs !== undefined) observe(M.overhead, base, overheadMs / 1000, extra);
    const firstChunkAt = event.outcome?.firstChunkAt;
    if (event.stream && firstChunkAt) observe(M.ttft, base, Math.max(0, firstChunkAt - event.startedAt - (overheadMs ?? 0)) / 1000, extra);
  }

  if (event.caller.kind === 'key') {
    const p = event.caller.policy;
    checkBudget({ kind: 'key', id: p.token, maxBudget: p.maxBudget, softBudget: p.softBudget, alias: p.keyAlias });
    if (p.team) checkBudget({ kind: 'team', id: p.team.id });
    if (p.organizationId) checkBudget({ kind: 'org', id: p.organizationId });
    // A key in a team is held to the team's budget, not its user's (as admission does).
    if (!p.team && p.userId) checkBudget({ kind: 'user', id: p.userId });
  }
  const settings = alertSettings(env);
  if (settings.globalBudget) checkBudget({ kind: 'global', id: 'proxy' });
  // A provider budget (budget routing) the call counted in: litellm_provider_remaining_budget_metric.
  if (providerBudget(config, event.deployment.provider)) checkBudget({ kind: 'global', id: PROVIDER_PREFIX + event.deployment.provider });
  if (!error && event.endpoint !== 'realtime' && alertEnabled(settings, 'llm_too_slow') && totalMs > settings.thresholdS * 1000) {
    const d = deploymentLabels(event.deployment);
    raiseAlert({
      type: 'llm_too_slow',
      dedupe: `slow:${d.model_id}`,
      group: d.model_group as string,
      model: d.litellm_model_name as string,
      deploymentId: d.model_id as string,
      apiBase: d.api_base as string,
      seconds: totalMs / 1000,
    });
  }
  // alerting: ["pagerduty"]: one property read when off.
  if (settings.pagerduty) notePagerDutyCall(event, settings.pagerduty, totalMs);
  scheduleFlush(env, ctx);
}

/**
 * What the call's label values are made of, as one string: the caller's
 * (key hash, alias, team and its alias, user), the deployment's id and the
 * route. Two calls with the same signature have the same label values.
 */
function signature(event: CallEvent): string {
  const c = event.caller;
  const d = event.deployment;
  const who = c.kind === 'master' ? `m\u0001${c.token}` : `k\u0001${c.token}\u0001${c.policy.keyAlias ?? ''}\u0001${c.policy.team?.id ?? ''}\u0001${c.policy.team?.alias ?? ''}\u0001${c.policy.userId ?? ''}`;
  return `${who}\u0001${d.id}\u0001${d.group}\u0001${d.model}\u0001${d.provider}\u0001${d.params.api_base ?? ''}\u0001${event.endpoint}`;
}

addCallSink(recordCall);
