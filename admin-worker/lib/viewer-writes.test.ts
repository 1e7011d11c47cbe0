import { describe, expect, it } from 'vitest';
import { maskUserId, viewerWriteRefusal } from './viewer-writes.ts';

// The pieces of the viewer rule the end-to-end suites (test/admin-viewer-roles.test.ts, test/admin-viewer-jwt.test.ts)
// cannot reach with every length of user id.

describe('maskUserId (LiteLLM RouteChecks._mask_user_id)', () => {
  it('hides a short id whole and shows six and two characters of a longer one', () => {
    expect(['', 'vic', 'abcd', 'abcde', 'abcdefgh', 'abcdefghi', 'jwt-viewer-user'].map(maskUserId))
      .toEqual(['***', '***', '***', '*****', '********', 'abcdef*hi', 'jwt-vi*******er']);
  });
});

describe('viewerWriteRefusal', () => {
  it('refuses only viewer roles, and names an internal_user_viewer without a user as unknown (masked)', () => {
    for (const role of ['proxy_admin', 'internal_user', 'org_admin', 'team']) expect(viewerWriteRefusal(role, 'POST', '/key/generate', 'u')).toBeUndefined();
    const refused = viewerWriteRefusal('internal_user_viewer', 'DELETE', '/v1/mcp/server/m', null);
    expect(refused).toMatchObject({ status: 401, param: 'None' });
    expect(refused?.message).toMatch(/Route=\/v1\/mcp\/server\/m\. Your role=internal_user_viewer\. Your user_id=\*{7}$/);
  });
});
