import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { ProviderCall } from '../providers/types.ts';
import { responsesAnswer } from '../providers/openai-compatible/answers.ts';
import { relayOpenAIStream } from '../providers/openai-compatible/sse-stream.ts';
import { type AffinityInput, encryptedAffinityOn, type PinEnv, pinnedDeployment } from './affinity.ts';
import { AffinityTable, MAX_ENCRYPTED_PINS, MAX_PINS } from './affinity-table.ts';
import { encryptedPinKey, originState, originUnavailable } from './encrypted-affinity.ts';

function config(router: Record<string, unknown>): TollgateConfig {
  const result = validateConfig({ model_list: [{ model_name: 'g', litellm_params: { model: 'mock/m' } }], router_settings: router }, {});
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

const encrypted = config({ optional_pre_call_checks: ['encrypted_content_affinity'] });

/** A group's pin object that answers after `delayMs` (or fails), over a real table. */
function pinEnv(behaviour: { delayMs?: number; fail?: boolean }, table = new AffinityTable()): PinEnv {
  const object = {
    async pinnedDeployments(keys: string[]) {
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      if (behaviour.fail) throw new Error('object unreachable');
      return table.lookup(keys, Date.now());
    },
    pinDeployments(pins: never[]) {
      table.pin(pins, Date.now());
    },
  };
  return { ROUTER_HEALTH: { idFromName: (name: string) => name, get: () => object } } as unknown as PinEnv;
}

const replaying = (...contents: string[]): AffinityInput => ({ scope: 't', encrypted: { replayed: () => contents } });

describe('encrypted_content_affinity pin lookups (a rule, not a preference)', () => {
  it('waits past the 100 ms a preference gets for a slow pin object, and stays strictly pinned', async () => {
    const table = new AffinityTable();
    table.pin([{ key: await encryptedPinKey('enc-slow'), deploymentId: 'origin', ttlMs: 60_000 }], Date.now());
    const pinned = await pinnedDeployment(pinEnv({ delayMs: 400 }, table), encrypted, 'slow-group', replaying('enc-slow'));
    expect(pinned).toMatchObject({ id: 'origin', strict: true });
  });

  it('answers 503 when the pin object cannot be reached, rather than routing the replay anywhere', async () => {
    const failing = pinnedDeployment(pinEnv({ fail: true }), encrypted, 'down-group', replaying('enc-x'));
    await expect(failing).rejects.toBeInstanceOf(GatewayError);
    await expect(failing).rejects.toMatchObject({ status: 503, type: 'service_unavailable', headers: { 'retry-after': '1' } });
    // A call with no encrypted item still routes unpinned when the object is down (a preference).
    const session = await pinnedDeployment(pinEnv({ fail: true }), config({ optional_pre_call_checks: ['session_affinity'] }), 'down-group', { scope: 't', session: 's' });
    expect(session).toMatchObject({ id: undefined, strict: false });
  });

  it('does not remember a miss: a pin written a moment later (by the answer that made the item) is found at once', async () => {
    const table = new AffinityTable();
    const env = pinEnv({}, table);
    expect(await pinnedDeployment(env, encrypted, 'race-group', replaying('enc-late'))).toMatchObject({ id: undefined });
    table.pin([{ key: await encryptedPinKey('enc-late'), deploymentId: 'origin', ttlMs: 60_000 }], Date.now());
    expect(await pinnedDeployment(env, encrypted, 'race-group', replaying('enc-late'))).toMatchObject({ id: 'origin', strict: true });
  });
});

describe('which groups pin encrypted items', () => {
  it('a group listing only forward_client_headers_by_model_group keeps the global checks', () => {
    const c = config({ optional_pre_call_checks: ['encrypted_content_affinity'], model_group_affinity_config: { g: ['forward_client_headers_by_model_group'], h: ['session_affinity'] } });
    expect(encryptedAffinityOn(c, 'g')).toBe(true);
    expect(encryptedAffinityOn(c, 'h')).toBe(false);
    expect(encryptedAffinityOn(c, 'other')).toBe(true);
    const mixed = config({ optional_pre_call_checks: ['session_affinity'], model_group_affinity_config: { g: ['forward_client_headers_by_model_group', 'encrypted_content_affinity'] } });
    expect(encryptedAffinityOn(mixed, 'g')).toBe(true);
    expect(encryptedAffinityOn(mixed, 'other')).toBe(false);
  });

  it('an answer is read for its items only when the call asks (its group pins them), and hands them over before the client has them', async () => {
    const output = [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc-1' }];
    const bytes = new TextEncoder().encode(JSON.stringify({ id: 'resp_1', object: 'response', output })).buffer as ArrayBuffer;
    const call = (encryptedItems?: (c: string[]) => void) => ({ endpoint: 'responses', body: {}, promptTokenEstimate: 1, keepText: false, ...(encryptedItems ? { encryptedItems } : {}) }) as unknown as ProviderCall;
    const got: string[][] = [];
    responsesAnswer(bytes, call(), (id) => id);
    expect(got).toEqual([]);
    responsesAnswer(bytes, call((c) => got.push(c)), (id) => id);
    expect(got).toEqual([['enc-1']]);
    const sse = `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { output, usage: null } })}\n\n`;
    const upstream = new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(new TextEncoder().encode(sse)); } });
    const streamed: string[][] = [];
    const relay = relayOpenAIStream(upstream, { responsesApi: true, clientWantsUsage: false, usageInjected: false, promptTokenEstimate: 1, keepText: false, label: 'OpenAI', provider: 'openai', encryptedItems: (c) => streamed.push(c) });
    // The upstream has not ended: the items are handed over with the completed event, not at the stream's end.
    const reader = relay.body.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('response.completed');
    expect(streamed).toEqual([['enc-1']]);
    await reader.cancel();
  });
});

describe('the origin deployment out of reach', () => {
  const serving = [{ id: 'origin' }, { id: 'other' }] as DeploymentRef[];
  const now = 120_000 + 15_000;

  it('over its rpm/tpm: 429 with retry-after until the minute window ends', () => {
    const state = originState(serving, { cooldowns: {}, latencyMs: {}, usage: {}, at: now }, 'origin', true, now);
    expect(state).toEqual({ kind: 'over_limits', until: 180_000 });
    const err = originUnavailable('m', 'g', state, now);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', headers: { 'retry-after': '45' } });
    expect(err.message).toContain('over its rate limits');
  });

  it('cooling down after failures: 503 with the cooldown\'s retry-after; gone: 400', () => {
    const state = originState(serving, { cooldowns: { origin: now + 20_000 }, latencyMs: {}, usage: {}, at: now }, 'origin', true, now);
    const err = originUnavailable('m', 'g', state, now);
    expect(err).toMatchObject({ status: 503, type: 'service_unavailable', headers: { 'retry-after': '20' } });
    expect(err.message).toContain('is cooling down');
    expect(err.message).not.toContain('origin');
    expect(originUnavailable('m', 'g', originState(serving, { cooldowns: {}, latencyMs: {}, usage: {}, at: now }, 'gone', true, now), now)).toMatchObject({ status: 400, param: 'input' });
  });
});

describe('the pin table keeps encrypted items apart', () => {
  it('a flood of encrypted item pins never evicts a session pin', () => {
    const t = new AffinityTable();
    t.pin([{ key: 's:team:session', deploymentId: 'a', ttlMs: 600_000 }], 0);
    t.pin(Array.from({ length: MAX_ENCRYPTED_PINS + 10 }, (_, i) => ({ key: `e:${i}`, deploymentId: 'b', ttlMs: 600_000 })), 1);
    expect(t.lookup(['s:team:session', 'e:0', `e:${MAX_ENCRYPTED_PINS + 9}`], 2)).toEqual(['a', null, 'b']);
    expect(t.size).toBe(MAX_ENCRYPTED_PINS + 1);
    expect(MAX_PINS).toBeGreaterThan(0);
  });
});
