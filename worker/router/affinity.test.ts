import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { AffinityTable, MAX_PINS } from './affinity-table.ts';
import { cacheablePrefix, cacheableTools, prefixTtlMs, promptPrefixKey } from './prompt-prefix.ts';
import { canonicalJson } from '../json.ts';

const marked = (text: string, ttl?: string) => ({ type: 'text', text, cache_control: { type: 'ephemeral', ...(ttl ? { ttl } : {}) } });

describe('the cacheable prefix (prompt_caching)', () => {
  it('ends at the last cache_control block, trimming that message after it', () => {
    const messages = [
      { role: 'system', content: [marked('rules')] },
      { role: 'user', content: [{ type: 'text', text: 'doc' }, marked('more'), { type: 'text', text: 'question' }] },
      { role: 'user', content: 'follow-up' },
    ];
    expect(cacheablePrefix(messages)).toEqual([messages[0], { role: 'user', content: [{ type: 'text', text: 'doc' }, marked('more')] }]);
  });

  it('counts a message-level cache_control, and is empty with no breakpoint', () => {
    const messages = [{ role: 'system', content: 'rules', cache_control: { type: 'ephemeral' } }, { role: 'user', content: 'q' }];
    expect(cacheablePrefix(messages)).toEqual([messages[0]]);
    expect(cacheablePrefix([{ role: 'user', content: 'q' }])).toEqual([]);
  });

  it('takes tools up to the last marked one, and lives an hour only when every marker says 1h', () => {
    const tools = [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'b' }, cache_control: { type: 'ephemeral', ttl: '1h' } }, { type: 'function', function: { name: 'c' } }];
    expect(cacheableTools(tools)).toEqual(tools.slice(0, 2));
    expect(prefixTtlMs([{ role: 'system', content: [marked('x', '1h')] }], tools.slice(0, 2))).toBe(3_600_000);
    expect(prefixTtlMs([{ role: 'system', content: [marked('x')] }], tools.slice(0, 2))).toBe(300_000);
  });

  it('hashes the same prefix alike whatever the key order or the question after it, and different prefixes apart', async () => {
    const one = await promptPrefixKey({ messages: [{ role: 'system', content: [marked('rules')] }, { role: 'user', content: 'q1' }] });
    const two = await promptPrefixKey({ messages: [{ content: [{ cache_control: { type: 'ephemeral' }, text: 'rules', type: 'text' }], role: 'system' }, { role: 'user', content: 'q2' }] });
    const other = await promptPrefixKey({ messages: [{ role: 'system', content: [marked('other rules')] }] });
    expect(one?.key).toMatch(/^p:[0-9a-f]{64}$/);
    expect(two?.key).toBe(one?.key);
    expect(other?.key).not.toBe(one?.key);
    expect(await promptPrefixKey({ messages: [{ role: 'user', content: 'no breakpoint' }] })).toBeUndefined();
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
  });
});

describe('the pin table (in a group\'s DeploymentHealth object)', () => {
  it('answers pins until they expire, and a new pin replaces the old', () => {
    const t = new AffinityTable();
    t.pin([{ key: 's:1', deploymentId: 'a', ttlMs: 1000 }, { key: 'k:x', deploymentId: 'b', ttlMs: 5000 }], 0);
    expect(t.lookup(['s:1', 'k:x', 'p:none'], 999)).toEqual(['a', 'b', null]);
    expect(t.lookup(['s:1', 'k:x'], 1000)).toEqual([null, 'b']);
    t.pin([{ key: 'k:x', deploymentId: 'c', ttlMs: 5000 }], 2000);
    expect(t.lookup(['k:x'], 6999)).toEqual(['c']);
  });

  it('keeps at most MAX_PINS, the expired and then the least lately pinned going first', () => {
    const t = new AffinityTable();
    t.pin([{ key: 'old', deploymentId: 'a', ttlMs: 10 }], 0);
    t.pin(Array.from({ length: MAX_PINS }, (_, i) => ({ key: `k${i}`, deploymentId: 'a', ttlMs: 60_000 })), 100);
    expect(t.size).toBe(MAX_PINS);
    expect(t.lookup(['old', 'k0'], 100)).toEqual([null, 'a']);
    t.pin([{ key: 'newest', deploymentId: 'b', ttlMs: 60_000 }], 200);
    expect(t.size).toBe(MAX_PINS);
    expect(t.lookup(['k0', 'k1', 'newest'], 200)).toEqual([null, 'a', 'b']);
  });
});

describe('config: optional_pre_call_checks', () => {
  const base = { model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m' } }] };

  it('loads LiteLLM\'s checks, warning about one set where it does not apply', () => {
    const result = validateConfig({
      ...base,
      router_settings: {
        optional_pre_call_checks: ['prompt_caching', 'session_affinity', 'encrypted_content_affinity'],
        model_group_affinity_config: { m: ['deployment_affinity', 'forward_client_headers_by_model_group', 'prompt_caching'] },
        deployment_affinity_ttl_seconds: 60,
      },
    }, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([
      'router_settings.model_group_affinity_config.m: "forward_client_headers_by_model_group" has no effect here (it names no model group, and leaves the group\'s other checks as they are): list the groups in litellm_settings.model_group_settings.forward_client_headers_to_llm_api',
      'router_settings.model_group_affinity_config.m: "prompt_caching" applies proxy-wide only: set it in router_settings.optional_pre_call_checks (ignored here)',
    ]);
  });

  it('refuses an unknown check by name', () => {
    const result = validateConfig({ ...base, router_settings: { optional_pre_call_checks: ['prompt_cache'] } }, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/optional_pre_call_checks.*expected one of prompt_caching, router_budget_limiting/);
  });
});
