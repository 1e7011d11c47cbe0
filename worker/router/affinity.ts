import type { Caller } from '../auth/authenticate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { Pin } from './affinity-table.ts';
import { MIN_CACHEABLE_TOKENS, promptPrefixKey } from './prompt-prefix.ts';
import { log } from '../telemetry/log.ts';
import { GatewayError } from '../errors.ts';
import { encryptedPinKey, isEncryptedPin, replayedContents } from './encrypted-affinity.ts';

/**
 * Deployment affinity, LiteLLM's `router_settings.optional_pre_call_checks`:
 * - `session_affinity`: the calls of one session (`metadata.session_id`, `litellm_session_id`, the
 *   `x-litellm-session-id` header) go to the deployment that served the session's last call;
 * - `prompt_caching`: a chat prompt whose cacheable prefix (prompt-prefix.ts) served before goes to the
 *   deployment that cached it, so the provider's prompt cache is hit;
 * - `deployment_affinity`: the calls of one virtual key go to the deployment that served its last one.
 * Each is a preference, not a rule: the pinned deployment is tried first while the group may use it (not
 * cooling down, under its limits); a retry or a deployment out of reach goes elsewhere and pins anew.
 * - `encrypted_content_affinity` (encrypted-affinity.ts): a Responses API call replaying reasoning items'
 *   `encrypted_content` goes to the deployment that produced them, and only there: a rule, not a preference.
 * `model_group_affinity_config` sets `session_affinity` / `deployment_affinity` / `encrypted_content_affinity` per group.
 * Pins live in the group's DeploymentHealth object (affinity-table.ts), so every isolate sees them; an
 * isolate remembers what it read for MEMO_MS (an encrypted item's miss not at all: its pin may be on its way),
 * and renews a pin at most every RENEW_MS.
 */

/** What a call may be pinned by: built once a call, before routing (affinityOf). */
export interface AffinityInput {
  /** Whose pins these are: session and prompt pins are a team's own (a key's, without a team), so one tenant never moves another's. */
  scope: string;
  session?: string;
  keyHash?: string;
  /** The cacheable prefix's pin, when `prompt_caching` is on and the prompt has one (hashed once, on first use). */
  prompt?: () => Promise<{ key: string; ttlMs: number } | undefined>;
  /**
   * A Responses API call under `encrypted_content_affinity`: the encrypted contents its input replays (maybe
   * none), latest first, read on first use (only for a group the check is on for, with deployments to choose from).
   */
  encrypted?: { replayed(): string[] };
}

const MEMO_MS = 5_000;
const RENEW_MS = 60_000;
const MEMO_MAX = 10_000;
/** A pin read that takes longer than this routes without it: a preference never holds a call back. */
const LOOKUP_WITHIN_MS = 100;
/** A call replaying encrypted items waits this long for its pins (a rule: unpinned, it would fail upstream), then gets a 503. */
const ENCRYPTED_LOOKUP_WITHIN_MS = 3_000;
/** The check that names header-forwarding groups in LiteLLM: per group it sets no affinity (header-groups.ts). */
const HEADER_CHECK = 'forward_client_headers_by_model_group';
const DEFAULT_TTL_S = 3600;

interface Memo {
  id: string | null;
  at: number;
  pinnedAt?: number;
}
const memo = new Map<string, Memo>();

/** The pin methods of a group's DeploymentHealth object (health-object.ts), as its stub offers them. */
interface PinObject {
  pinnedDeployments(keys: string[]): Promise<(string | null)[]> | (string | null)[];
  pinDeployments(pins: Pin[]): Promise<void> | void;
}

/**
 * What of the Worker's env this module reads: the health objects' namespace. Structural, so this module (and
 * its unit tests, typechecked without Workers' types) need not import env.ts.
 */
export interface PinEnv {
  ROUTER_HEALTH?: { idFromName(name: string): unknown; get(id: never): unknown };
}

function pinObject(env: PinEnv, group: string): PinObject | undefined {
  const ns = env.ROUTER_HEALTH;
  // An object of the group's own, beside its health object: pins never queue behind cooldowns or slots.
  return ns ? ns.get(ns.idFromName(`${group}\u0001affinity`) as never) as PinObject : undefined;
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
  if (checks.has('encrypted_content_affinity') && call.endpoint === 'responses') {
    let replayed: string[] | undefined;
    input.encrypted = { replayed: () => (replayed ??= replayedContents(call.body)) };
  }
  return input.session || input.keyHash || input.prompt || input.encrypted ? input : undefined;
}

/**
 * The affinity checks on for `group`: its `model_group_affinity_config` entry, in place of the global list. An
 * entry naming only `forward_client_headers_by_model_group` (which sets nothing per group) leaves the global list.
 */
function flagsOf(config: TollgateConfig, group: string): readonly string[] {
  const r = config.router_settings;
  const own = r.model_group_affinity_config?.[group];
  const global = r.optional_pre_call_checks ?? [];
  if (!own || !own.includes(HEADER_CHECK)) return own ?? global;
  const kept = own.filter((c) => c !== HEADER_CHECK);
  return kept.length ? kept : global;
}

/** Whether `group` pins encrypted items (`encrypted_content_affinity`): only then are answers and requests scanned for them. */
export const encryptedAffinityOn = (config: TollgateConfig, group: string): boolean => flagsOf(config, group).includes('encrypted_content_affinity');

const ttlOf = (config: TollgateConfig) => (config.router_settings.deployment_affinity_ttl_seconds ?? DEFAULT_TTL_S) * 1000;

/** The pins that apply to this call in `group`, in the order they are honoured: replayed encrypted items, session, cached prompt, key. */
async function pinsFor(config: TollgateConfig, group: string, input: AffinityInput): Promise<Pin[]> {
  const r = config.router_settings;
  const flags = flagsOf(config, group);
  const ttlMs = ttlOf(config);
  const pins: Pin[] = [];
  if (input.encrypted && flags.includes('encrypted_content_affinity')) {
    for (const key of await Promise.all(input.encrypted.replayed().map(encryptedPinKey))) pins.push({ key, deploymentId: '', ttlMs });
  }
  if (input.session && flags.includes('session_affinity')) pins.push({ key: `s:${input.scope}:${input.session}`, deploymentId: '', ttlMs });
  // prompt_caching is proxy-wide in LiteLLM (model_group_affinity_config names the others).
  if (input.prompt && r.optional_pre_call_checks?.includes('prompt_caching')) {
    const prompt = await input.prompt();
    if (prompt) pins.push({ key: `${prompt.key}:${input.scope}`, deploymentId: '', ttlMs: prompt.ttlMs });
  }
  if (input.keyHash && flags.includes('deployment_affinity')) pins.push({ key: `k:${input.keyHash}`, deploymentId: '', ttlMs });
  return pins;
}

/** The first pin naming a deployment; `strict` when it is a replayed encrypted item's (a rule). */
function firstNamed(pins: Pin[], ids: readonly (string | null | undefined)[]): { id: string | undefined; strict: boolean } {
  const i = ids.findIndex((id) => id);
  return i < 0 ? { id: undefined, strict: false } : { id: ids[i]!, strict: isEncryptedPin(pins[i]!.key) };
}

/**
 * The deployment of `group` this call is pinned to (the first pin that names one), or undefined, and the
 * pins to renew once it is served (`lookup` false: those alone, where only one deployment is left to use).
 * `strict`: the deployment made content the call replays, so no other may serve it.
 * An unreachable object is logged and the call routes as if unpinned, unless it replays encrypted items: those
 * wait longer for their pins (ENCRYPTED_LOOKUP_WITHIN_MS) and then get a 503, as routing them blind could send
 * them to an account that cannot decrypt them.
 */
export async function pinnedDeployment(env: PinEnv, config: TollgateConfig, group: string, input: AffinityInput, lookup = true): Promise<{ id: string | undefined; pins: Pin[]; strict: boolean }> {
  const pins = await pinsFor(config, group, input);
  if (!pins.length || !lookup) return { id: undefined, pins, strict: false };
  const now = Date.now();
  const known = pins.map((p) => memo.get(`${group}\u0001${p.key}`));
  if (known.every((m) => m && now - m.at < MEMO_MS)) return { ...firstNamed(pins, known.map((m) => m!.id)), pins };
  const object = pinObject(env, group);
  if (!object) return { ...firstNamed(pins, known.map((m) => m?.id)), pins };
  const rule = isEncryptedPin(pins[0]!.key);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ids = await Promise.race([
      Promise.resolve(object.pinnedDeployments(pins.map((p) => p.key))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), rule ? ENCRYPTED_LOOKUP_WITHIN_MS : LOOKUP_WITHIN_MS))),
    ]);
    // A key past the object's answer (an object bounding its lookups) is unknown, not a miss: what this isolate knew of it stands.
    const answered = pins.map((_, i) => (i < ids.length ? ids[i] ?? null : known[i]?.id));
    pins.forEach((p, i) => {
      // An encrypted item's miss is not remembered: its pin may be written a moment later (the answer that made it).
      if (i < ids.length && (ids[i] || !isEncryptedPin(p.key))) remember(group, p.key, { ...memo.get(`${group}\u0001${p.key}`), id: ids[i] ?? null, at: now });
    });
    return { ...firstNamed(pins, answered), pins };
  } catch (err) {
    log.error(`deployment affinity for ${group} unavailable:`, err instanceof Error ? err.message : String(err));
    // A slow or unreachable object: the pin this isolate last read or made, if any, still holds.
    const held = firstNamed(pins, known.map((m) => m?.id));
    if (rule && !held.strict) {
      throw new GatewayError(`Deployment affinity for model_group=${group} is unavailable: the deployment that produced this encrypted_content cannot be found right now. Try again shortly.`, {
        status: 503, type: 'service_unavailable', retryable: false, headers: { 'retry-after': '1' },
      });
    }
    return { ...held, pins };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Pins the call's keys to the deployment that served it (in the background); a pin renewed lately is left as it is. */
export function pinServed(env: PinEnv, ctx: { waitUntil(p: Promise<unknown>): void }, group: string, pins: Pin[], deploymentId: string): void {
  const pinning = pinNow(env, group, pins, deploymentId);
  if (pinning) ctx.waitUntil(pinning);
}

/**
 * What takes the encrypted items an answer of `deploymentId` produces (`encrypted_content_affinity`): pins them
 * to it at once, in the background. The adapters hand them over before the answer reaches the client (a
 * stream's before its `response.completed`), so the pin is on its way before any follow-up can replay them.
 */
export function itemPinner(env: PinEnv, ctx: { waitUntil(p: Promise<unknown>): void }, config: TollgateConfig, group: string, deploymentId: string): (contents: string[]) => void {
  const ttlMs = ttlOf(config);
  return (contents) => ctx.waitUntil(Promise.all(contents.map(encryptedPinKey))
    .then((keys) => pinNow(env, group, keys.map((key) => ({ key, deploymentId, ttlMs })), deploymentId))
    .catch(() => undefined));
}

function pinNow(env: PinEnv, group: string, pins: Pin[], deploymentId: string): Promise<unknown> | undefined {
  const now = Date.now();
  const due = pins.filter((p) => {
    const m = memo.get(`${group}\u0001${p.key}`);
    return !(m?.id === deploymentId && m.pinnedAt !== undefined && now - m.pinnedAt < Math.min(RENEW_MS, p.ttlMs / 4));
  }).map((p) => ({ ...p, deploymentId }));
  if (!due.length) return undefined;
  for (const p of due) remember(group, p.key, { id: deploymentId, at: now, pinnedAt: now });
  const object = pinObject(env, group);
  if (!object) return undefined;
  return Promise.resolve(object.pinDeployments(due)).catch((err: unknown) => {
    log.error(`deployment affinity for ${group}: pinning failed:`, err instanceof Error ? err.message : String(err));
  });
}

function remember(group: string, key: string, entry: Memo): void {
  const name = `${group}\u0001${key}`;
  memo.delete(name);
  memo.set(name, entry);
  if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value!);
}
