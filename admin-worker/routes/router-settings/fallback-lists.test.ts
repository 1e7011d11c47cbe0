import { describe, expect, it } from 'vitest';
import { isAdminPath } from '../../../worker/routes/admin-prefixes.ts';
import { effectiveFallbacks, type FallbackList, fallbacksOf, withFallbacks, withoutFallbacks } from './fallback-lists.ts';

describe('effectiveFallbacks', () => {
  it('reads router_settings\' list of the type, litellm_settings\' for context window and content policy where router_settings sets none', () => {
    const router = { fallbacks: [{ a: ['b'] }], content_policy_fallbacks: [] };
    const litellm = { context_window_fallbacks: [{ a: ['big'] }], content_policy_fallbacks: [{ a: ['c'] }] };
    expect(effectiveFallbacks(router, litellm, 'general')).toEqual([{ a: ['b'] }]);
    expect(effectiveFallbacks(router, litellm, 'context_window')).toEqual([{ a: ['big'] }]);
    // An empty list in router_settings is set: the gateway takes it over litellm_settings'.
    expect(effectiveFallbacks(router, litellm, 'content_policy')).toEqual([]);
    expect(effectiveFallbacks({}, {}, 'general')).toEqual([]);
  });
});

describe('fallbacksOf', () => {
  it('gives the first entry naming the group, as the router looks it up, else none', () => {
    const list: FallbackList = [{ x: ['y'] }, { a: ['b', 'c'] }, { a: ['d'] }];
    expect(fallbacksOf(list, 'a')).toEqual(['b', 'c']);
    expect(fallbacksOf(list, 'z')).toEqual([]);
    expect(fallbacksOf(list, 'constructor')).toEqual([]);
  });
});

describe('withFallbacks', () => {
  it('appends an entry for a group without one, and replaces the first naming it, keeping its other groups and the list given', () => {
    const list: FallbackList = [{ x: ['y'] }, { a: ['b'], k: ['l'] }];
    expect(withFallbacks(list, 'n', ['m'])).toEqual({ list: [{ x: ['y'] }, { a: ['b'], k: ['l'] }, { n: ['m'] }], updated: false });
    expect(withFallbacks(list, 'a', ['c', 'd'])).toEqual({ list: [{ x: ['y'] }, { a: ['c', 'd'], k: ['l'] }], updated: true });
    expect(list).toEqual([{ x: ['y'] }, { a: ['b'], k: ['l'] }]);
  });
});

describe('withoutFallbacks', () => {
  it('removes the group from every entry, dropping entries left empty, and says when none named it', () => {
    const list: FallbackList = [{ a: ['b'] }, { x: ['y'], a: ['c'] }, { k: ['l'] }];
    expect(withoutFallbacks(list, 'a')).toEqual({ list: [{ x: ['y'] }, { k: ['l'] }], found: true });
    expect(withoutFallbacks(list, 'y')).toEqual({ list, found: false });
  });
});

describe('the gateway forwards to the admin Worker', () => {
  it('/fallback, /fallback/{model}, /router/settings and /router/fields, and nothing wider', () => {
    for (const path of ['/fallback', '/fallback/gpt-4o', '/fallback/openai/gpt-4o', '/router/settings', '/router/fields']) expect(isAdminPath(path), path).toBe(true);
    for (const path of ['/fallbacks', '/fallback-x', '/router', '/router/other', '/routes']) expect(isAdminPath(path), path).toBe(false);
  });
});
