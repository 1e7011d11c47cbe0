import type { GatewayEnv } from '../../env.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { checkBudget, health, healthFor, inc, incFor, observeFor, raiseAlert, scheduleFlush } from './buffer.ts';
import { callerLabels, deploymentLabels, exceptionClass, isDeploymentFailure, type LabelValues, ROUTES, statusLabel } from './labels.ts';
import { M } from './registry.ts';

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
  // The label values of every series below, identified by what they are made of (see incFor).
  const sig = signature(event);
  let labels: LabelValues | undefined;
  const base = () => (labels ??= { ...callerLabels(event.caller), ...deploymentLabels(event.deployment), route: ROUTES[event.endpoint] });
  const deployment = () => deploymentLabels(event.deployment);

  incFor(M.proxyTotal, `${sig}\u0001${error ? error.status : 200}`, () => ({ ...base(), status_code: statusLabel(error ? error.status : 200) }));
  incFor(M.deploymentTotal, sig, base);
  if (error) {
    const failure = { ...base(), exception_status: statusLabel(error.status), exception_class: exceptionClass(error, event.deployment.provider) };
    inc(M.proxyFailed, failure);
    inc(M.deploymentFailure, failure);
    if (isDeploymentFailure(error)) health(M.deploymentState, deployment(), { fail: 1 });
  } else {
    incFor(M.deploymentSuccess, sig, base);
    healthFor(M.deploymentState, sig, deployment, { ok: 1 });
  }
  incFor(M.spend, sig, base, record.spend);
  incFor(M.totalTokens, sig, base, record.total_tokens);
  incFor(M.inputTokens, sig, base, record.prompt_tokens);
  incFor(M.outputTokens, sig, base, record.completion_tokens);

  const totalMs = Math.max(0, event.finishedAt - event.startedAt);
  const overheadMs = event.overheadMs;
  if (!error) {
    // LiteLLM observes latencies of successful calls only.
    observeFor(M.requestLatency, sig, base, totalMs / 1000);
    observeFor(M.llmLatency, sig, base, Math.max(0, totalMs - (overheadMs ?? 0)) / 1000);
    if (overheadMs !== undefined) observeFor(M.overhead, sig, base, overheadMs / 1000);
    const firstChunkAt = event.outcome?.firstChunkAt;
    if (event.stream && firstChunkAt) observeFor(M.ttft, sig, base, Math.max(0, firstChunkAt - event.startedAt - (overheadMs ?? 0)) / 1000);
  }

  if (event.caller.kind === 'key') {
    const p = event.caller.policy;
    checkBudget({ kind: 'key', id: p.token, maxBudget: p.maxBudget, alias: p.keyAlias });
    if (p.team) checkBudget({ kind: 'team', id: p.team.id });
    if (p.organizationId) checkBudget({ kind: 'org', id: p.organizationId });
    // A key in a team is held to the team's budget, not its user's (as admission does).
    if (!p.team && p.userId) checkBudget({ kind: 'user', id: p.userId });
  }
  const settings = alertSettings(env);
  if (settings.globalBudget) checkBudget({ kind: 'global', id: 'proxy' });
  if (!error && alertEnabled(settings, 'llm_too_slow') && totalMs > settings.thresholdS * 1000) {
    raiseAlert({
      type: 'llm_too_slow',
      dedupe: `slow:${deployment().model_id}`,
      group: deployment().model_group as string,
      model: deployment().litellm_model_name as string,
      deploymentId: deployment().model_id as string,
      apiBase: deployment().api_base as string,
      seconds: totalMs / 1000,
    });
  }
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
