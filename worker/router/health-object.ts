import { DurableObject } from 'cloudflare:workers';
import type { GatewayEnv } from '../env.ts';
import { withConfigEnv } from '../config/config-env.ts';
import { type SlotCap, SlotTable } from './parallel-slots.ts';
import { AffinityTable, type Pin } from './affinity-table.ts';
import type { HealthSnapshot } from './health-snapshot.ts';

/** One call's outcome on one deployment, as isolates report it. */
export interface DeploymentReport {
  deploymentId: string;
  ok: boolean;
  /** Whole-call latency, or for streams the time to the first chunk. */
  latencyMs?: number;
  tokens?: number;
  at: number;
  /** Successes an isolate gathered into this one report (their mean latency, summed tokens); 1 when absent, 0 for tokens alone. */
  count?: number;
  /** Requests this report adds to the minute's usage, where it is not `count` (calls counted when sent: health.ts countCall). */
  requests?: number;
  /** A failure's own threshold (allowed_fails_policy for its error class); CooldownSettings.allowedFails when absent. */
  allowedFails?: number;
}

export interface CooldownSettings {
  allowedFails: number;
  cooldownSeconds: number;
  disabled: boolean;
}

export type { HealthSnapshot };

const FAIL_WINDOW_MS = 60_000;
/** Weight of the newest latency in the moving average. */
const LATENCY_ALPHA = 0.3;

/**
 * The shared health of one model group's deployments (one object per
 * group): a failure past `allowed_fails` within a minute (or its error class's
 * `allowed_fails_policy`) puts a deployment in
 * cooldown for `cooldown_time`, seen by every isolate on its next refresh;
 * latency and per-minute usage feed the latency- and usage-based strategies.
 * Cooldowns are stored, so a restarted object keeps them.
 */
export class DeploymentHealth extends DurableObject<GatewayEnv> {
  #fails = new Map<string, number[]>();
  #cooldowns: Record<string, number> | undefined;
  #latency: Record<string, number> = {};
  #usage: HealthSnapshot['usage'] = {};
  #slots = new SlotTable();
  #pins = new AffinityTable();

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    // config.yaml's environment_variables, as the Workers' handlers see them (config-env.ts).
    super(ctx, withConfigEnv(env));
  }

  async report(reports: DeploymentReport[], settings: CooldownSettings, now = Date.now()): Promise<HealthSnapshot> {
    const cooldowns = await this.#loadCooldowns();
    let cooled = false;
    for (const r of reports) {
      const minute = Math.floor(r.at / 60_000);
      const usage = this.#usage[r.deploymentId];
      // A report of tokens alone (count 0) adds to the minute's tokens, not its requests.
      const count = Math.max(0, r.requests ?? r.count ?? 1);
      if (!usage || usage.minute !== minute) this.#usage[r.deploymentId] = { minute, requests: count, tokens: r.tokens ?? 0 };
      else {
        usage.requests += count;
        usage.tokens += r.tokens ?? 0;
      }
      if (r.ok) {
        if (r.latencyMs !== undefined) {
          const old = this.#latency[r.deploymentId];
          this.#latency[r.deploymentId] = old === undefined ? r.latencyMs : old + LATENCY_ALPHA * (r.latencyMs - old);
        }
        continue;
      }
      const recent = (this.#fails.get(r.deploymentId) ?? []).filter((t) => t > now - FAIL_WINDOW_MS);
      recent.push(r.at);
      this.#fails.set(r.deploymentId, recent);
      if (!settings.disabled && recent.length > (r.allowedFails ?? settings.allowedFails) && !(cooldowns[r.deploymentId]! > now)) {
        cooldowns[r.deploymentId] = now + settings.cooldownSeconds * 1000;
        this.#fails.set(r.deploymentId, []);
        cooled = true;
      }
    }
    if (cooled) await this.ctx.storage.put('cooldowns', cooldowns);
    return this.#snapshot(now);
  }

  async snapshot(now = Date.now()): Promise<HealthSnapshot> {
    await this.#loadCooldowns();
    return this.#snapshot(now);
  }

  /**
   * A slot of the first of `caps` with room (deployments' `max_parallel_requests`, or the proxy's
   * `global_max_parallel_requests` in the object named for it), waiting up to `waitMs` for one; null when none.
   */
  takeSlot(caps: SlotCap[], holder: string, waitMs = 0): Promise<string | null> {
    return this.#slots.take(caps, holder, Math.min(Math.max(0, waitMs), 30_000), Date.now());
  }

  freeSlot(slot: string, holder: string): void {
    this.#slots.free(slot, holder, Date.now());
  }

  renewSlots(holds: { slot: string; holder: string }[]): void {
    this.#slots.renew(holds, Date.now());
  }

  /** The deployments `keys` are pinned to (router/affinity.ts), null where none is; the first LOOKUP_MAX (affinity-table.ts) only. */
  pinnedDeployments(keys: string[]): (string | null)[] {
    return this.#pins.lookupForCall(keys, Date.now());
  }

  /** Pins keys to the deployment that served their call (router/affinity.ts); the first PIN_MAX (affinity-table.ts) only. */
  pinDeployments(pins: Pin[]): void {
    this.#pins.pinForCall(pins, Date.now());
  }

  async #loadCooldowns(): Promise<Record<string, number>> {
    this.#cooldowns ??= (await this.ctx.storage.get<Record<string, number>>('cooldowns')) ?? {};
    return this.#cooldowns;
  }

  #snapshot(now: number): HealthSnapshot {
    const cooldowns: Record<string, number> = {};
    for (const [id, until] of Object.entries(this.#cooldowns ?? {})) if (until > now) cooldowns[id] = until;
    return { cooldowns, latencyMs: { ...this.#latency }, usage: { ...this.#usage }, at: now };
  }
}
