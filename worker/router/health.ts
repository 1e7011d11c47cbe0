import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { recordDeploymentCooldown } from '../telemetry/metrics/hooks.ts';
import type { CooldownSettings, DeploymentHealth, DeploymentReport, HealthSnapshot } from './health-object.ts';
import { DEFAULT_ALLOWED_FAILS } from './retry-policy.ts';
import { log } from '../telemetry/log.ts';

interface WaitUntil { waitUntil(p: Promise<unknown>): void }

/**
 * Whether deployments' own `rpm`/`tpm` are counted and held: by the usage-based strategies (as a routing
 * weight), and by every strategy with `optional_pre_call_checks: [enforce_model_rate_limits]` (LiteLLM's hard
 * limit: a deployment at either this minute is not called, and a group with none left answers 429).
 */
export function countsDeploymentUsage(config: TollgateConfig): boolean {
  const r = config.router_settings;
  return r.routing_strategy?.startsWith('usage-based') === true || r.optional_pre_call_checks?.includes('enforce_model_rate_limits') === true;
}

/** How stale an isolate's copy of a group's health may get before it refreshes (in the background). */
export const HEALTH_REFRESH_MS = 1_000;
/** A cold isolate waits at most this long for the shared health before routing without it. */
const COLD_WAIT_MS = 250;

interface GroupHealth {
  snapshot: HealthSnapshot;
  /** Failures this isolate saw, applied at once without waiting for the shared object. */
  localFails: Map<string, number[]>;
  pending: DeploymentReport[];
  /** Successes since the last refresh, one report per deployment and minute (count, mean latency, tokens). */
  successes: Map<string, DeploymentReport>;
  /** Calls sent since the last refresh, per deployment and minute, where deployments' rpm are counted (countCall). */
  sent: Map<string, DeploymentReport>;
  fetching: Promise<void> | undefined;
}

const groups = new Map<string, GroupHealth>();
const inFlight = new Map<string, number>();

export function cooldownSettings(config: TollgateConfig): CooldownSettings {
  const r = config.router_settings;
  return { allowedFails: r.allowed_fails ?? DEFAULT_ALLOWED_FAILS, cooldownSeconds: r.cooldown_time ?? 5, disabled: r.disable_cooldowns === true };
}

function stub(env: GatewayEnv, group: string): Pick<DeploymentHealth, 'report' | 'snapshot'> | undefined {
  const ns = env.ROUTER_HEALTH;
  return ns ? ns.get(ns.idFromName(group)) as unknown as Pick<DeploymentHealth, 'report' | 'snapshot'> : undefined;
}

/**
 * The group's health as this isolate knows it: answered from memory, with a
 * refresh from the shared object in the background once it is a second old.
 * Only an isolate that has never seen the group waits (briefly) for it.
 */
export async function groupHealth(env: GatewayEnv, ctx: WaitUntil, config: TollgateConfig, group: string): Promise<HealthSnapshot> {
  let entry = groups.get(group);
  if (!entry) {
    entry = { snapshot: { cooldowns: {}, latencyMs: {}, usage: {}, at: 0 }, localFails: new Map(), pending: [], successes: new Map(), sent: new Map(), fetching: undefined };
    groups.set(group, entry);
    const first = refresh(env, config, group, entry);
    ctx.waitUntil(first);
    await Promise.race([first, new Promise((r) => setTimeout(r, COLD_WAIT_MS))]);
  } else if (Date.now() - entry.snapshot.at > HEALTH_REFRESH_MS && !entry.fetching) {
    ctx.waitUntil(refresh(env, config, group, entry));
  }
  return entry.snapshot;
}

function refresh(env: GatewayEnv, config: TollgateConfig, group: string, entry: GroupHealth): Promise<void> {
  const object = stub(env, group);
  if (!object) return Promise.resolve();
  // Where calls are counted when sent (countCall), their outcomes add no requests: the sends did.
  const ended = [...entry.pending.splice(0), ...entry.successes.values()];
  const outcomes = countsDeploymentUsage(config) ? ended.map((r) => ({ ...r, requests: 0 })) : ended;
  const reports = [...outcomes, ...entry.sent.values()];
  entry.successes.clear();
  entry.sent.clear();
  entry.fetching = object.report(reports, cooldownSettings(config)).then((snapshot) => {
    entry.snapshot = { ...snapshot, cooldowns: { ...snapshot.cooldowns, ...localCooldowns(entry, snapshot.at) } };
    // Calls sent while the report was on its way are not in the object's answer yet: counted on top of it.
    for (const r of entry.sent.values()) bumpUsage(entry, r.deploymentId, r.at, r.requests ?? 0, 0);
  }).catch((err: unknown) => {
    entry.pending.unshift(...reports);
    log.error(`router health for ${group} unavailable:`, err instanceof Error ? err.message : String(err));
  }).finally(() => {
    entry.fetching = undefined;
  });
  return entry.fetching;
}

function localCooldowns(entry: GroupHealth, now: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, until] of Object.entries(entry.snapshot.cooldowns)) if (until > now) out[id] = until;
  return out;
}

/**
 * Reports a call's outcome. A failure counts at once in this isolate (so it
 * stops choosing the deployment without waiting) and is sent to the shared
 * object right away; successes are summed per deployment and minute and
 * travel with the next refresh (one report for a second's calls, not one each).
 */
export function reportOutcome(env: GatewayEnv, ctx: WaitUntil, config: TollgateConfig, group: string, report: DeploymentReport, failure?: { deployment: DeploymentRef; status: number; reason: string }): void {
  const entry = groups.get(group);
  if (!entry) return;
  if (report.ok) {
    addSuccess(entry.successes, report);
    return;
  }
  entry.pending.push(report);
  const settings = cooldownSettings(config);
  const recent = (entry.localFails.get(report.deploymentId) ?? []).filter((t) => t > report.at - 60_000);
  recent.push(report.at);
  entry.localFails.set(report.deploymentId, recent);
  if (!settings.disabled && recent.length > (report.allowedFails ?? settings.allowedFails)) {
    entry.snapshot = { ...entry.snapshot, cooldowns: { ...entry.snapshot.cooldowns, [report.deploymentId]: report.at + settings.cooldownSeconds * 1000 } };
    entry.localFails.set(report.deploymentId, []);
    // Metrics and the "Deployment Cooldown" alert (deduplicated across isolates by the aggregator).
    if (failure) recordDeploymentCooldown(env, ctx, { deployment: failure.deployment, status: failure.status, cooldownSeconds: settings.cooldownSeconds, reason: failure.reason });
  }
  if (!entry.fetching) ctx.waitUntil(refresh(env, config, group, entry));
}

/** Successes are summed per deployment and minute. */
const successKey = (deploymentId: string, at: number) => `${deploymentId}\u0001${Math.floor(at / 60_000)}`;

/**
 * Usage-based routing's counts, kept in this isolate at once rather than only
 * once the shared object has them (it answers a second later): a call counts
 * against its deployment's `rpm` when it is sent, as in LiteLLM, and its
 * tokens against `tpm` as soon as its answer tells them. The tokens travel
 * to the shared object with the next refresh.
 */
export function countCall(group: string, deploymentId: string, at: number, delta: 1 | -1 = 1): void {
  const entry = groups.get(group);
  if (!entry) return;
  bumpUsage(entry, deploymentId, at, delta, 0);
  // Reported to the shared object when sent (not when it ends), so every isolate counts calls still in flight.
  const key = successKey(deploymentId, at);
  const sent = entry.sent.get(key);
  if (sent) sent.requests = (sent.requests ?? 0) + delta;
  else entry.sent.set(key, { deploymentId, ok: true, at, count: 0, requests: delta });
}

/** The group's usage as this isolate knows it now, its own calls just counted included (usage-based routing). */
export function currentHealth(group: string): HealthSnapshot | undefined {
  return groups.get(group)?.snapshot;
}

export function countTokens(group: string, deploymentId: string, tokens: number, at: number): void {
  const entry = groups.get(group);
  if (!entry || !(tokens > 0)) return;
  bumpUsage(entry, deploymentId, at, 0, tokens);
  const key = successKey(deploymentId, at);
  const sum = entry.successes.get(key);
  if (sum) sum.tokens = (sum.tokens ?? 0) + tokens;
  else entry.successes.set(key, { deploymentId, ok: true, at, count: 0, tokens });
}

function bumpUsage(entry: GroupHealth, deploymentId: string, at: number, requests: number, tokens: number): void {
  const minute = Math.floor(at / 60_000);
  const u = entry.snapshot.usage[deploymentId];
  const next = u && u.minute === minute ? { minute, requests: u.requests + requests, tokens: u.tokens + tokens } : { minute, requests, tokens };
  entry.snapshot = { ...entry.snapshot, usage: { ...entry.snapshot.usage, [deploymentId]: next } };
}

function addSuccess(successes: Map<string, DeploymentReport>, report: DeploymentReport): void {
  const key = successKey(report.deploymentId, report.at);
  const sum = successes.get(key);
  if (!sum) {
    successes.set(key, { ...report, count: 1 });
    return;
  }
  const count = (sum.count ?? 1) + 1;
  if (report.latencyMs !== undefined) sum.latencyMs = sum.latencyMs === undefined || count === 1 ? report.latencyMs : sum.latencyMs + (report.latencyMs - sum.latencyMs) / count;
  if (report.tokens !== undefined) sum.tokens = (sum.tokens ?? 0) + report.tokens;
  sum.count = count;
  sum.at = report.at;
}

/** Requests this isolate has in flight per deployment (least-busy routing). */
export function busy(deploymentId: string): number {
  return inFlight.get(deploymentId) ?? 0;
}

export function trackInFlight(deploymentId: string, delta: 1 | -1): void {
  inFlight.set(deploymentId, Math.max(0, (inFlight.get(deploymentId) ?? 0) + delta));
}
