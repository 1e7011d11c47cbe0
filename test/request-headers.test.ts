/**
 * What providers and telemetry sinks see of a client's request headers: a
 * view over them that never shows a credential, in any letter case.
 */
import { describe, expect, it } from 'vitest';

type View = { get(name: string): string | null; forEach(each: (value: string, name: string) => void): void };
// Typed against @cloudflare/workers-types, which this Node-side tsconfig does not load: imported by a computed path.
const helpers = () => import(/* @vite-ignore */ new URL('../worker/proxy/call-helpers.ts', import.meta.url).href) as Promise<{ withoutCredentials(h: Headers): View }>;

describe('request headers without credentials', () => {
  it('show every other header and no credential, by get or forEach', async () => {
    const { withoutCredentials } = await helpers();
    const headers = new Headers({
      Authorization: 'Bearer sk-client-secret', 'X-Api-Key': 'sk-ant-secret', 'api-key': 'azure-secret', Cookie: 'session=secret',
      'x-litellm-api-key': 'sk-litellm-secret', 'x-goog-api-key': 'goog-secret', 'Ocp-Apim-Subscription-Key': 'apim-secret',
      'anthropic-beta': 'files-api-2025-04-14', langfuse_trace_id: 'trace-1', 'x-litellm-tags': 'a,b',
    });
    const view = withoutCredentials(headers);
    for (const name of ['Authorization', 'authorization', 'X-API-KEY', 'api-key', 'cookie', 'X-LiteLLM-Api-Key', 'x-goog-api-key', 'ocp-apim-subscription-key']) {
      expect(view.get(name)).toBeNull();
    }
    expect(view.get('Anthropic-Beta')).toBe('files-api-2025-04-14');
    const seen: Record<string, string> = {};
    view.forEach((value, name) => (seen[name] = value));
    expect(seen).toEqual({ 'anthropic-beta': 'files-api-2025-04-14', langfuse_trace_id: 'trace-1', 'x-litellm-tags': 'a,b' });
    expect(JSON.stringify(seen)).not.toContain('secret');
  });
});
