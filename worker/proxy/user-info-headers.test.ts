import { describe, expect, it } from 'vitest';
import type { Caller } from '../auth/authenticate.ts';
import type { KeyPolicy } from '../auth/key-policy.ts';
import { userInformationHeaders } from './user-info-headers.ts';

/** What `add_user_information_to_llm_headers` tells a provider about callers the end-to-end suite does not start (JWTs). */
describe('userInformationHeaders', () => {
  const hash = 'a'.repeat(64);

  it('sends an admin-scope JWT (a master caller that never held the master key) as LiteLLM does: its end user only', () => {
    const admin: Caller = { kind: 'master', token: hash };
    expect(userInformationHeaders(admin, 'cust-1', true)).toEqual({ 'x-litellm-user_api_key_end_user_id': 'cust-1' });
    expect(userInformationHeaders(admin, null, false)).toEqual({ 'x-litellm-user_api_key_hash': hash, 'x-litellm-user_api_key_user_id': 'default_user_id' });
  });

  it('never sends a JWT caller id (it may hold an email), nor its spend; a mapped JWT sends its key\'s hash', () => {
    const policy = { keyAlias: null, spend: 3, maxBudget: null, team: { id: 'team-1', alias: 'Research' }, userId: 'u1', organizationId: null } as unknown as KeyPolicy;
    const jwtCaller: Caller = { kind: 'key', token: 'jwt:eyJ0ZWFtIjoidGVhbS0xIiwiZW1haWwiOiJhQGIuY29tIn0', policy };
    const sent = userInformationHeaders(jwtCaller, null, true);
    expect(sent).toEqual({ 'x-litellm-user_api_key_team_id': 'team-1', 'x-litellm-user_api_key_user_id': 'u1', 'x-litellm-user_api_key_team_alias': 'Research' });
    expect(JSON.stringify(sent)).not.toContain('jwt:');
    const mapped: Caller = { kind: 'key', token: hash, policy, viaJwt: true };
    expect(userInformationHeaders(mapped, null, true)).toMatchObject({ 'x-litellm-user_api_key_hash': hash, 'x-litellm-user_api_key_spend': '3' });
  });
});
