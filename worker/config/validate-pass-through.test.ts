// general_settings.pass_through_endpoints as the config validator takes them (validate.ts; the calls: test/pass-through-config.test.ts).
import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

describe('general_settings.pass_through_endpoints', () => {
  const endpoint = (e: Record<string, unknown>) => ({ general_settings: { pass_through_endpoints: [{ target: 'https://api.example.test/v1/run', ...e }] } });

  it('warns of a public endpoint, one under the gateway\'s own routes, and a header variable that is not set', () => {
    const result = validateConfig({ general_settings: { pass_through_endpoints: [
      { path: '/bria', target: 'https://engine.test', auth: false },
      { path: '/v1/rerank', target: 'https://api.cohere.test/v1/rerank' },
      { path: '/tools', target: 'https://tools.test', headers: { Authorization: 'Bearer os.environ/TOOLS_KEY' } },
    ] } }, {});
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/pass_through_endpoints\[0\] \(\/bria\): auth: false/),
      expect.stringMatching(/pass_through_endpoints\[1\] \(\/v1\/rerank\): under \/v1/),
      expect.stringMatching(/pass_through_endpoints\[2\]\.headers\.Authorization: os\.environ\/TOOLS_KEY is not set/),
    ]));
    expect(validateConfig({ general_settings: { pass_through_endpoints: [{ path: '/tools', target: 'https://tools.test', headers: { Authorization: 'Bearer os.environ/TOOLS_KEY' } }] } }, { TOOLS_KEY: 'k' }).warnings)
      .not.toEqual(expect.arrayContaining([expect.stringMatching(/TOOLS_KEY/)]));
  });

  it('warns of an endpoint under /interactions, and of an MCP server named interactions: Google\'s Interactions API is served there', () => {
    const result = validateConfig({
      general_settings: { pass_through_endpoints: [{ path: '/interactions/run', target: 'https://run.test' }, { path: '/interactionsx', target: 'https://x.test' }] },
      mcp_servers: { interactions: { url: 'https://i.example.com/mcp' } },
    }, {});
    expect(result.ok).toBe(true);
    expect(result.warnings.filter((w) => w.includes('one of the gateway\'s own routes'))).toEqual([
      "mcp_servers.interactions: /interactions/mcp is under one of the gateway's own routes, which wins: reach this server at /mcp/interactions",
      expect.stringMatching(/pass_through_endpoints\[0\] \(\/interactions\/run\): under \/interactions,/),
    ]);
  });

  it('warns of an endpoint under any route the gateway serves itself (videos, the cost estimator, MCP\'s REST routes)', () => {
    const result = validateConfig({ general_settings: { pass_through_endpoints: [
      { path: '/videos/generate', target: 'https://video.test' },
      { path: '/cost/estimate', target: 'https://cost.test' },
      { path: '/mcp-rest/tools', target: 'https://mcp.test' },
      { path: '/videography', target: 'https://video.test' },
      // The gateway's own GET routes at one path (/routes, /test, /public/model_hub), and an endpoint above one with its subpaths.
      { path: '/routes', target: 'https://routes.test' },
      { path: '/test', target: 'https://test.test' },
      { path: '/public/model_hub', target: 'https://hub.test' },
      { path: '/public', target: 'https://public.test', include_subpath: true },
      { path: '/public-tools', target: 'https://tools.test' },
      { path: '/test/run', target: 'https://test.test' },
    ] } }, {});
    expect(result.ok).toBe(true);
    const shadowed = result.warnings.filter((w) => w.includes('one of the gateway\'s own routes'));
    expect(shadowed).toEqual([
      expect.stringMatching(/pass_through_endpoints\[0\] \(\/videos\/generate\): under \/videos,/),
      expect.stringMatching(/pass_through_endpoints\[1\] \(\/cost\/estimate\): under \/cost,/),
      expect.stringMatching(/pass_through_endpoints\[2\] \(\/mcp-rest\/tools\): under \/mcp-rest,/),
      expect.stringMatching(/pass_through_endpoints\[4\] \(\/routes\): GET \/routes is/),
      expect.stringMatching(/pass_through_endpoints\[5\] \(\/test\): GET \/test is/),
      expect.stringMatching(/pass_through_endpoints\[6\] \(\/public\/model_hub\): GET \/public\/model_hub is/),
      expect.stringMatching(/pass_through_endpoints\[7\] \(\/public\): GET \/public\/model_hub is/),
    ]);
  });

  it('keeps a header\'s whole-value reference for each call to read (an unset one is warned, not dropped)', () => {
    const result = validateConfig({ general_settings: { pass_through_endpoints: [{ path: '/bria', target: 'https://engine.test', headers: { api_token: 'os.environ/BRIA_KEY' } }] } }, {});
    expect(result.ok && result.config.general_settings.pass_through_endpoints?.[0]?.headers).toEqual({ api_token: 'os.environ/BRIA_KEY' });
    expect(result.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/headers\.api_token: os\.environ\/BRIA_KEY is not set/)]));
  });

  it('refuses a path at the root, with dot segments or odd characters, and a target that is not a URL', () => {
    for (const bad of [{ path: '/' }, { path: '/a/../b' }, { path: 'bria' }, { path: '/a b' }, { path: '/ok', target: 'not a url' }]) {
      expect(validateConfig(endpoint(bad), {}).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});
