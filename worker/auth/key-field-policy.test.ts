import { describe, expect, it } from 'vitest';
import { keyFieldPolicy } from './key-field-policy.ts';

describe('keyFieldPolicy: the two key fields a key\'s policy carries', () => {
  it('carries nothing for a key without them, so its policy is as it was', () => {
    expect(keyFieldPolicy({})).toEqual({});
    expect(keyFieldPolicy({ disable_global_guardrails: false, allowed_passthrough_routes: [] })).toEqual({});
  });

  it('carries disable_global_guardrails only when the key sets it true', () => {
    expect(keyFieldPolicy({ disable_global_guardrails: true })).toEqual({ disableGlobalGuardrails: true });
    expect(keyFieldPolicy({ disable_global_guardrails: 'true' })).toEqual({});
  });

  it('carries the key\'s non-empty allowed_passthrough_routes, keeping only strings', () => {
    expect(keyFieldPolicy({ allowed_passthrough_routes: ['/a', 7] })).toEqual({ allowedPassthroughRoutes: ['/a'] });
    expect(keyFieldPolicy({ allowed_passthrough_routes: '/a' })).toEqual({});
  });
});
