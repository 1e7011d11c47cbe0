import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/authenticate.ts';
import type { KeyPolicy } from '../auth/key-policy.ts';
import type { GuardrailConfig } from './schema.ts';
import { guardrailsFor, refuseUnguardedRoute, requestedGuardrails } from './run.ts';

const guard = (name: string, defaultOn: boolean): GuardrailConfig => ({ guardrail_name: name, litellm_params: { guardrail: 'lakera_v2', mode: 'pre_call', default_on: defaultOn } }) as GuardrailConfig;
const ALL = [guard('global', true), guard('also-global', true), guard('on-ask', false)];

const key = (policy: Partial<KeyPolicy>): Caller => ({ kind: 'key', token: 'h', policy: { metadata: {}, team: null, ...policy } as KeyPolicy });
const running = (caller: Caller, body: Record<string, unknown> = {}) => guardrailsFor(ALL, ['pre_call'], requestedGuardrails(body, caller)).map((g) => g.guardrail_name);

describe('disable_global_guardrails: a key out of the default_on guardrails', () => {
  it('runs the default_on guardrails for a key without it', () => {
    expect(running(key({}))).toEqual(['global', 'also-global']);
  });

  it('skips them for a key with it, but runs those the call or the key names, default_on or not (LiteLLM\'s should_run_guardrail)', () => {
    const exempt = { disableGlobalGuardrails: true } as const;
    expect(running(key(exempt))).toEqual([]);
    expect(running(key(exempt), { guardrails: ['also-global', 'on-ask'] })).toEqual(['also-global', 'on-ask']);
    expect(running(key({ ...exempt, metadata: { guardrails: ['global'] } }))).toEqual(['global']);
  });

  it('lets an exempt key onto a route no guardrail reads, unless a guardrail it names holds it', () => {
    expect(() => refuseUnguardedRoute(ALL, key({}), 'this pass-through route')).toThrow(/Guardrails \(global, also-global\) check this key's calls/);
    expect(() => refuseUnguardedRoute(ALL, key({ disableGlobalGuardrails: true }), 'this pass-through route')).not.toThrow();
    expect(() => refuseUnguardedRoute(ALL, key({ disableGlobalGuardrails: true, metadata: { guardrails: ['on-ask'] } }), 'x')).toThrow(/Guardrails \(on-ask\)/);
  });
});
