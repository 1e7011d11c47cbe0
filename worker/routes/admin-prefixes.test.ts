// Which paths the gateway forwards to the admin Worker (admin-prefixes.ts), and what the config validator takes as
// the gateway's own (cross-checks.ts): a prefix wider than the admin routes would take paths from config-defined
// pass-through endpoints and warn of MCP servers that nothing shadows.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { isAdminPath } from './admin-prefixes.ts';

describe('the admin Worker\'s paths', () => {
  it('are /email/event_settings and its reset, not the rest of /email/', () => {
    expect(isAdminPath('/email/event_settings')).toBe(true);
    expect(isAdminPath('/email/event_settings/reset')).toBe(true);
    expect(isAdminPath('/email/digest')).toBe(false);
    expect(isAdminPath('/email')).toBe(false);
  });

  it('leave a pass-through endpoint under /email/ and an MCP server named email unwarned', () => {
    const result = validateConfig({
      general_settings: { pass_through_endpoints: [{ path: '/email/send', target: 'https://mail.test' }, { path: '/email/event_settings', target: 'https://mail.test' }] },
      mcp_servers: { email: { url: 'https://mail.example.com/mcp' } },
    }, {});
    expect(result.ok).toBe(true);
    expect(result.warnings.filter((w) => w.includes('one of the gateway\'s own routes'))).toEqual([
      expect.stringMatching(/pass_through_endpoints\[1\] \(\/email\/event_settings\): under \/email\/event_settings,/),
    ]);
  });

  it('are the /config routes the admin Worker serves, not the rest of /config/', () => {
    for (const path of ['/config/update', '/config/list', '/config/field/info', '/config/field/update', '/config/field/delete']) expect(isAdminPath(path)).toBe(true);
    expect(isAdminPath('/config/yaml')).toBe(false);
    expect(isAdminPath('/config')).toBe(false);
    const result = validateConfig({
      general_settings: { pass_through_endpoints: [{ path: '/config/remote', target: 'https://cfg.test' }] },
      mcp_servers: { config: { url: 'https://cfg.example.com/mcp' } },
    }, {});
    expect(result.ok).toBe(true);
    expect(result.warnings.filter((w) => w.includes('one of the gateway\'s own routes'))).toEqual([]);
  });
});
