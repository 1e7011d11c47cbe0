import type { Caller } from '../auth/authenticate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import type { Pin } from './affinity-table.ts';
import type { DeploymentHealth } from './health-object.ts';
import { MIN_CACHEABLE_TOKENS, promptPrefixKey } from './prompt-prefix.ts';
import { log } from '../telemetry/log.ts';

/**
 * Deployment affinity, LiteLLM's `router_settings.optional_pre_call_checks`:
 * - `session_affinity`: the calls of one session (`metadata.session_id`, `litellm_session_id`, the
 *   `x-litellm-session-id` header) go to the deployment that served the session's last call;
 * - `prompt_caching`: a chat prompt whose cacheable prefix (prompt-prefix.ts) served before goes to the
 *   deployment that cached it, so the provider's prompt cache is hit;
 * - `deployment_affinity`: the calls of one virtual key go to the deployment that served its last one.
 * Each is a preference, not a rule: the pinned deployment is tried first while the group may use it (not
 * cooling down, under its limits); a retry or a deployment out of reach goes elsewhere and pins anew.
 * `model_group_affinity_config` sets `session_affinity` / `deployment_affinity` per group.
 * Pins live in the group's DeploymentHealth object (affinity-table.ts), so every isolate sees them; an
 * isolate remembers what it read for MEMO_MS, and renews a pin at most every RENEW_MS.
 */

/** What a call may be pinned by: built once a call, before routing (affinityOf). */
export interface AffinityInput {
  /** Whose pins these are: session and prompt pins are a team's own (a key's, without a team), so one tenant never moves another's. */
  scope: string;
  session?: string;
  keyHash?: string;
  /** The cacheable prefix's pin, when `prompt_caching` is on and the prompt has one (hashed once, on first use). */
  prompt?: () => Promise<{ key: string; ttlMs: number } | undefined>;
}

const MEMO_MS = 5_000;
const RENEW_MS = 60_000;
const MEMO_MAX = 10_000;
/** A pin read that takes longer than this routes without it: affinity never holds a call back. */
const LOOKUP_WITHIN_MS = 100;
const DEFAULT_TTL_S = 3600;

interface Memo {
  id: string | null;
  at: number;
  pinnedAt?: number;
}
const memo = new Map<string, Memo>();

type PinObject = Pick<DeploymentHealth, 'pinnedDeployments' | 'pinDeployments'>;

function pinObject(env: GatewayEnv, group: string): PinObject | undefined {
  const ns = env.ROUTER_HEALTH;
  // An object of the group's own, beside its health object: pins never queue behind cooldowns or slots.
  return ns ? ns.get(ns.idFromName(`${group}\u0001affinity`)) as unknown as PinObject : undefined;
}

/**
 * What this call may be pinned by; undefined (one property read) when no affinity check is configured.
 * Only chat calls (and `/v1/messages`, which is one) have a cacheable prefix.
 */
export function affinityOf(
  config: TollgateConfig, call: { endpoint: string; body: Record<string, unknown>; caller: Caller; headers: { get(name: string): string | null }; promptTokens: number },
): AffinityInput | undefined {
  const r = config.router_settings;
  if (!r.optional_pre_call_checks && !r.model_group_affinity_config) return undefined;
  const checks = new Set<string>(r.optional_pre_call_checks ?? []);
  for (const flags of Object.values(r.model_group_affinity_config ?? {})) for (const f of flags) checks.add(f);
  const caller = call.caller;
  const input: AffinityInput = { scope: caller.kind === 'key' ? caller.policy.team?.id ?? caller.token : 'master' };
  if (checks.has('session_affinity')) {
    const metadata = call.body.metadata as Record<string, unknown> | null | undefined;
    const session = metadata?.session_id ?? call.body.litellm_session_id ?? call.headers.get('x-litellm-session-id');
    if (typeof session === 'string' && session && session.length <= 256) input.session = session;
  }
  if (checks.has('deployment_affinity')) input.keyHash = call.caller.token;
  if (checks.has('prompt_caching') && call.endpoint === 'chat' && call.promptTokens >= MIN_CACHEABLE_TOKENS) {
    let hashed: Promise<{ key: string; ttlMs: number } | undefined> | undefined;
    input.prompt = () => (hashed ??= promptPrefixKey(call.body).catch(() => undefined));
  }
  return input.session || input.keyHash || input.prompt ? input : undefined;
}

/** The pins that apply to this call in `group`, in the order they are honoured: session, cached prompt, key. */
async function pinsFor(config: TollgateConfig, group: string, input: AffinityInput): Promise<Pin[]> {
  const r = config.router_settings;
  const flags = r.model_group_affinity_config?.[group] ?? r.optional_pre_call_checks ?? [];
  const ttlMs = (r.deployment_affinity_ttl_seconds ?? DEFAULT_TTL_S) * 1000;
  const pins: Pin[] = [];
  if (input.session && flags.includes('session_affinity')) pins.push({ key: `s:${input.scope}:${input.session}`, deploymentId: '', ttlMs });
  // prompt_caching is proxy-wide in LiteLLM (model_group_affinity_config names the others).
  if (input.prompt && r.optional_pre_call_checks?.includes('prompt_caching')) {
    const prompt = await input.prompt();
    if (prompt) pins.push({ key: `${prompt.key}:${input.scope}`, deploymentId: '', ttlMs: prompt.ttlMs });
  }
  if (input.keyHash && flags.includes('deployment_affinity')) pins.push({ key: `k:${input.keyHash}`, deploymentId: '', ttlMs });
  return pins;
}

/**
 * The deployment of `group` this call is pinned to (the first pin that names one), or undefined, and the
 * pins to renew once it is served (`lookup` false: those alone, where only one deployment is left to use).
 * Never throws: an unreachable object is logged and the call routes as if unpinned.
 */
export async function pinnedDeployment(env: GatewayEnv, config: TollgateConfig, group: string, input: AffinityInput, lookup = true): Promise<{ id: string | undefined; pins: Pin[] }> {
  const pins = await pinsFor(config, group, input);
  if (!pins.length || !lookup) return { id: undefined, pins };
  const now = Date.now();
  const known = pins.map((p) => memo.get(`${group}\u0001${p.key}`));
  if (known.every((m) => m && now - m.at < MEMO_MS)) return { id: known.find((m) => m!.id)?.id ?? undefined, pins };
  const object = pinObject(env, group);
  if (!object) return { id: known.find((m) => m?.id)?.id ?? undefined, pins };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ids = await Promise.race([
      Promise.resolve(object.pinnedDeployments(pins.map((p) => p.key))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), LOOKUP_WITHIN_MS))),
    ]);
    pins.forEach((p, i) => remember(group, p.key, { ...memo.get(`${group}\u0001${p.key}`), id: ids[i] ?? null, at: now }));
    return { id: ids.find((id) => id) ?? undefined, pins };
  } catch (err) {
    log.error(`deployment affinity for ${group} unavailable:`, err instanceof Error ? err.message : String(err));
    // A slow or unreachable object: the pin this isolate last read or made, if any, still holds.
    return { id: known.find((m) => m?.id)?.id ?? undefined, pins };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Pins the call's keys to the deployment that served it (in the background); a pin renewed lately is left as it is. */
export function pinServed(env: GatewayEnv, ctx: { waitUntil(p: Promise<unknown>): void }, group: string, pins: Pin[], deploymentId: string): void {
  const now = Date.now();
  const due = pins.filter((p) => {
    const m = memo.get(`${group}\u0001${p.key}`);
    return !(m?.id === deploymentId && m.pinnedAt !== undefined && now - m.pinnedAt < Math.min(RENEW_MS, p.ttlMs / 4));
  }).map((p) => ({ ...p, deploymentId }));
  if (!due.length) return;
  for (const p of due) remember(group, p.key, { id: deploymentId, at: now, pinnedAt: now });
  const object = pinObject(env, group);
  if (!object) return;
  ctx.waitUntil(Promise.resolve(object.pinDeployments(due)).catch((err: unknown) => {
    log.error(`deployment affinity for ${group}: pinning failed:`, err instanceof Error ? err.message : String(err));
  }));
}

function remember(group: string, key: string, entry: Memo): void {
  const name = `${group}\u0001${key}`;
  memo.delete(name);
  memo.set(name, entry);
  if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value!);
}
