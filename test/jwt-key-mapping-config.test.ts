import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';

/** What config.yaml takes of virtual_key_claim_field (jwt_client_id_field) and unregistered_jwt_client_behavior (their calls: jwt-key-mapping-gateway, -admin). */

describe('the JWT → virtual key mapping settings', () => {
  const config = (jwtauth: Record<string, unknown>) => validateConfig({ general_settings: { enable_jwt_auth: true, litellm_jwtauth: jwtauth } }, {});
  const warnings = (result: ReturnType<typeof config>) => (result.ok ? result.warnings.join('\n') : 'not ok');
  const errors = (result: ReturnType<typeof config>) => (result.ok ? '' : result.errors.join('\n'));

  it('load without a warning, LiteLLM\'s names and values', () => {
    for (const behavior of ['fallback_team_mapping', 'reject']) {
      const result = config({ jwt_client_id_field: 'client_id', unregistered_jwt_client_behavior: behavior });
      expect(result.ok).toBe(true);
      expect(warnings(result)).not.toMatch(/jwt_client_id_field|unregistered_jwt_client_behavior/);
    }
    expect(config({ jwt_client_id_field: 'app.client_id' }).ok).toBe(true);
  });

  it('take LiteLLM\'s current name, virtual_key_claim_field, or the older one; both only when they agree', () => {
    const current = config({ virtual_key_claim_field: 'azp', unregistered_jwt_client_behavior: 'reject' });
    expect(current.ok).toBe(true);
    expect(warnings(current)).not.toMatch(/virtual_key_claim_field|unregistered_jwt_client_behavior/);
    expect(config({ virtual_key_claim_field: 'azp', jwt_client_id_field: 'azp' }).ok).toBe(true);
    expect(errors(config({ virtual_key_claim_field: 'azp', jwt_client_id_field: 'sub' }))).toMatch(/litellm_jwtauth\.jwt_client_id_field: is the older name of virtual_key_claim_field.*set one of them/);
    expect(errors(config({ virtual_key_claim_field: 'a..b' }))).toMatch(/litellm_jwtauth\.virtual_key_claim_field: expected a claim name or dot path/);
  });

  it('fail when unregistered_jwt_client_behavior is set without a claim to look up ("reject" would refuse nothing)', () => {
    for (const behavior of ['reject', 'fallback_team_mapping', 'auto_register']) {
      expect(errors(config({ team_id_jwt_field: 'team_id', unregistered_jwt_client_behavior: behavior }))).toMatch(/litellm_jwtauth\.unregistered_jwt_client_behavior: has no effect without virtual_key_claim_field/);
    }
  });

  it('load auto_register without a warning (it mints a key on a client\'s first call)', () => {
    expect(warnings(config({ jwt_client_id_field: 'azp', unregistered_jwt_client_behavior: 'auto_register' }))).not.toMatch(/auto_register/);
  });

  it('warn that auto_register_map_existing_key is not supported (a fresh key is minted)', () => {
    expect(warnings(config({ jwt_client_id_field: 'azp', unregistered_jwt_client_behavior: 'auto_register', auto_register_map_existing_key: true })))
      .toMatch(/auto_register_map_existing_key: is not supported by Tollgate yet/);
  });

  it('refuse an unknown behaviour or a broken claim path, naming the setting', () => {
    expect(errors(config({ jwt_client_id_field: 'azp', unregistered_jwt_client_behavior: 'allow' }))).toMatch(/litellm_jwtauth\.unregistered_jwt_client_behavior: expected "fallback_team_mapping", "reject" or "auto_register"/);
    expect(errors(config({ jwt_client_id_field: 'a..b' }))).toMatch(/litellm_jwtauth\.jwt_client_id_field: expected a claim name or dot path/);
  });
});
