import type { GatewayEnv } from '../../env.ts';
import { alertEnabled, alertSettings } from '../alerts/settings.ts';
import type { CallEvent } from '../call-event.ts';
import { addCallSink, type WaitUntil } from '../emit.ts';
import { checkBudget, health, inc, observe, raiseAlert, scheduleFlush } from './buffer.ts';
import { callerLabels, deploymentLabels, exceptionClass, isDeploymentFailure, ROUTES, statusLabel } from './labels.ts';
import { M } from './registry.ts';

/**
 * The metrics and alerts sink: one finished call becomes a handful of
 * buffered counter and histogram updates (no I/O), the entities it was
 * charged to are queued for a budget check, and a call slower than
 * `alerting_threshold` becomes an alert candidate. The buffer ships within
 * about a second (metrics/buffer.ts).
 */
export function recordCall(env: GatewayEnv, ctx: WaitUntil, event: CallEvent): void {
  const deployment = deploymentLabels(event.deployment);
  const base = { ...callerLabels(event.caller), ...deployment, route: ROUTES[event.endpoint] };
  const error = event.error;
  const record = event.record;

  inc(M.proxyTotal, { ...base, status_code: statusLabel(error ? error.status : 200) });
  inc(M.deploymentTotal, base);
  if (error) {
    const failure = { ...base, exception_status: statusLabel(error.status), exception_class: exceptionClass(error, event.deployment.provider) };
    inc(M.proxyFailed, failure);
    inc(M.deploymentFailure, failure);
    if (isDeploymentFailure(error)) health(M.deploymentState, deployment, { fail: 1 });
  } else {
    inc(M.deploymentSuccess, base);
    health(M.deploymentState, deployment, { ok: 1 });
  }
  inc(M.spend, base, record.spend);
  inc(M.totalTokens, base, record.total_tokens);
  inc(M.inputTokens, base, record.prompt_tokens);
  inc(M.outputTokens, base, record.completion_tokens);

  const totalMs = Math.max(0, event.finishedAt - event.startedAt);
  const overheadMs = event.overheadMs;
  if (!error) {
    // LiteLLM observes latencies of successful calls only.
    observe(M.requestLatency, base, totalMs / 1000);
    observe(M.llmLatency, base, Math.max(0, totalMs - (overheadMs ?? 0)) / 1000);
    if (overheadMs !== undefined) observe(M.overhead, base, overheadMs / 1000);
    const firstChunkAt = event.outcome?.firstChunkAt;
    if (event.stream && firstChunkAt) observe(M.ttft, base, Math.max(0, firstChunkAt - event.startedAt - (overheadMs ?? 0)) / 1000);
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
      dedupe: `slow:${deployment.model_id}`,
      group: deployment.model_group as string,
      model: deployment.litellm_model_name as string,
      deploymentId: deployment.model_id as string,
      apiBase: deployment.api_base as string,
      seconds: totalMs / 1000,
    });
  }
  scheduleFlush(env, ctx);
}

addCallSink(recordCall);
