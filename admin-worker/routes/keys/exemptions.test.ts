import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../../../worker/errors.ts';
import { requireAdminForKeyExemptions } from './exemptions.ts';

const refusal = (run: () => void): GatewayError | undefined => {
  try {
    run();
    return undefined;
  } catch (err) {
    return err as GatewayError;
  }
};

describe('requireAdminForKeyExemptions: who may take a key out of the operator\'s rules', () => {
  it('lets a proxy admin set, change and clear both fields', () => {
    expect(refusal(() => requireAdminForKeyExemptions(true, { disable_global_guardrails: true, allowed_passthrough_routes: ['/a'] }))).toBeUndefined();
    expect(refusal(() => requireAdminForKeyExemptions(true, { metadata: null }, { allowed_passthrough_routes: ['/a'] }))).toBeUndefined();
  });

  it('refuses anyone else disable_global_guardrails, as the field or in metadata, with LiteLLM\'s 403', () => {
    for (const body of [{ disable_global_guardrails: true }, { metadata: { disable_global_guardrails: true } }]) {
      const err = refusal(() => requireAdminForKeyExemptions(false, body));
      expect(err?.status).toBe(403);
      expect(err?.message).toBe('Only proxy admins can set `disable_global_guardrails` on a key.');
    }
    expect(refusal(() => requireAdminForKeyExemptions(false, { disable_global_guardrails: false }))).toBeUndefined();
    // An exempted key's flag sent back as it is: no opt-out.
    expect(refusal(() => requireAdminForKeyExemptions(false, { disable_global_guardrails: true }, { disable_global_guardrails: true }))).toBeUndefined();
  });

  it('refuses anyone else a set, changed or cleared allowed_passthrough_routes, not one sent back as stored', () => {
    const stored = { allowed_passthrough_routes: ['/a'] };
    for (const [body, before] of [
      [{ allowed_passthrough_routes: ['/a'] }, undefined],
      [{ metadata: { allowed_passthrough_routes: ['/b'] } }, stored],
      [{ allowed_passthrough_routes: [] }, stored],
      [{ metadata: null }, stored],
    ] as const) {
      expect(refusal(() => requireAdminForKeyExemptions(false, body as never, before))?.message).toBe('Only proxy admins can set `metadata.allowed_passthrough_routes` on a key.');
    }
    expect(refusal(() => requireAdminForKeyExemptions(false, { allowed_passthrough_routes: ['/a'], metadata: { team: 'x' } }, stored))).toBeUndefined();
    expect(refusal(() => requireAdminForKeyExemptions(false, { allowed_passthrough_routes: [] }))).toBeUndefined();
  });
});
