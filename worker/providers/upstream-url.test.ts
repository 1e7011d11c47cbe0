import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { displayBase, upstreamUrl } from './upstream-url.ts';

describe('upstreamUrl', () => {
  it('joins a configured base and a path, keeping the base path', () => {
    expect(upstreamUrl('https://api.openai.com/v1', 'chat/completions').href).toBe('https://api.openai.com/v1/chat/completions');
    expect(upstreamUrl('http://vllm.internal:8000/v1/', '/embeddings').href).toBe('http://vllm.internal:8000/v1/embeddings');
    const azure = upstreamUrl('https://x.openai.azure.com', `openai/deployments/${encodeURIComponent('a/../b#c')}/chat/completions`, { 'api-version': '2024-08-01-preview' });
    expect(azure.host).toBe('x.openai.azure.com');
    expect(azure.pathname).toBe('/openai/deployments/a%2F..%2Fb%23c/chat/completions');
    expect(displayBase(azure)).toBe('https://x.openai.azure.com/openai/deployments/a%2F..%2Fb%23c/chat/completions');
  });

  it.each([
    ['a non-http scheme', 'file:///etc/passwd'],
    ['credentials', 'https://user:pw@api.openai.com/v1'],
    ['an @ smuggling another host', 'https://api.openai.com@evil.example/v1'],
    ['a fragment', 'https://api.openai.com/v1#evil.example'],
    ['a backslash', 'https://api.openai.com\\@evil.example/v1'],
    ['a query string', 'https://api.openai.com/v1?x=1'],
    ['not a URL', 'api.openai.com'],
  ])('refuses a base with %s', (_, base) => {
    expect(() => upstreamUrl(base, 'chat/completions')).toThrow(GatewayError);
  });
});
