import { deploymentPrice } from '../cost/deployment-cost.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { pickDeployment } from '../models/deployments.ts';
import type { HealthSnapshot } from './health-object.ts';
import { busy } from './health.ts';

export type RoutingStrategy = 'simple-shuffle' | 'least-busy' | 'usage-based-routing' | 'usage-based-routing-v2' | 'latency-based-routing' | 'cost-based-routing';

/** A deployment's own `rpm`/`tpm`: its litellm_params', else its model_info's (LiteLLM reads both). */
export function deploymentLimits(d: DeploymentRef): { rpm?: number; tpm?: number } {
  const number = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : undefined);
  const rpm = d.params.rpm ?? number(d.info.rpm);
  const tpm = d.params.tpm ?? number(d.info.tpm);
  return { ...(rpm !== undefined ? { rpm } : {}), ...(tpm !== undefined ? { tpm } : {}) };
}

/** Deployments whose own `rpm`/`tpm` this minute's usage has not reached (usage-based routing respects them). */
export function underDeploymentLimits(deployments: DeploymentRef[], health: HealthSnapshot, now: number): DeploymentRef[] {
  const minute = Math.floor(now / 60_000);
  return deployments.filter((d) => {
    const u = health.usage[d.id];
    if (!u || u.minute !== minute) return true;
    const { rpm, tpm } = deploymentLimits(d);
    if (rpm !== undefined && u.requests >= rpm) return false;
    if (tpm !== undefined && u.tokens >= tpm) return false;
    return true;
  });
}

function lowest(deployments: DeploymentRef[], score: (d: DeploymentRef) => number, random: () => number): DeploymentRef | undefined {
  let best: DeploymentRef[] = [];
  let bestScore = Infinity;
  for (const d of deployments) {
    const s = score(d);
    if (s < bestScore) {
      best = [d];
      bestScore = s;
    } else if (s === bestScore) best.push(d);
  }
  return best[Math.floor(random() * best.length)];
}

/** `router_settings.routing_strategy_args` Tollgate acts on. */
interface StrategyArgs {
  /** Latency-based: choose at random among deployments within this fraction of the lowest latency (0.5 = 50% above it). */
  lowest_latency_buffer?: number;
}

/** The fastest deployments: those within `buffer` (a fraction) of the lowest moving average; an unmeasured one first. */
function nearLowestLatency(deployments: DeploymentRef[], health: HealthSnapshot, buffer: number, random: () => number): DeploymentRef | undefined {
  const unmeasured = deployments.filter((d) => health.latencyMs[d.id] === undefined);
  const pool = unmeasured.length ? unmeasured : (() => {
    const least = Math.min(...deployments.map((d) => health.latencyMs[d.id] as number));
    return deployments.filter((d) => (health.latencyMs[d.id] as number) <= least * (1 + buffer));
  })();
  return pool[Math.floor(random() * pool.length)];
}

/**
 * Chooses a deployment with the group's `routing_strategy`: simple-shuffle
 * (weighted by `weight`, else `rpm`), least-busy (fewest requests in flight
 * here), latency-based (lowest moving average, or at random within
 * `lowest_latency_buffer` of it; a deployment not measured yet is tried
 * first), usage-based (least tokens this minute, within each deployment's
 * rpm/tpm), cost-based (cheapest per token).
 */
export function choose(strategy: RoutingStrategy, deployments: DeploymentRef[], health: HealthSnapshot, random: () => number = Math.random, args: StrategyArgs = {}): DeploymentRef | undefined {
  if (deployments.length <= 1) return deployments[0];
  switch (strategy) {
    case 'least-busy':
      return lowest(deployments, (d) => busy(d.id), random);
    case 'latency-based-routing':
      if (args.lowest_latency_buffer) return nearLowestLatency(deployments, health, args.lowest_latency_buffer, random);
      return lowest(deployments, (d) => health.latencyMs[d.id] ?? -1, random);
    case 'usage-based-routing':
    case 'usage-based-routing-v2':
      return lowest(deployments, (d) => {
        const u = health.usage[d.id];
        return u && u.minute === Math.floor(Date.now() / 60_000) ? u.tokens : 0;
      }, random);
    case 'cost-based-routing':
      return lowest(deployments, (d) => {
        const price = deploymentPrice(d);
        const input = d.info.input_cost_per_token ?? d.params.input_cost_per_token ?? price?.inputCostPerToken ?? 0;
        const output = d.info.output_cost_per_token ?? d.params.output_cost_per_token ?? price?.outputCostPerToken ?? 0;
        return input + output;
      }, random);
    default:
      return pickDeployment(deployments, random);
  }
}
