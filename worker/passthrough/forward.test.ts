import { describe, expect, it } from 'vitest';
import { forwardedHeaders, passThroughUrl, pathSegments, readablePath, returnedHeaders } from './forward.ts';

describe('passThroughUrl', () => {
  it('puts the client\'s path and query below the base', () => {
    expect(passThroughUrl('https://api.anthropic.com', '/v1/messages', [['beta', 'true']]).href).toBe('https://api.anthropic.com/v1/messages?beta=true');
    expect(passThroughUrl('https://host/base/', '/a/b', []).href).toBe('https://host/base/a/b');
  });

  it('does not double a version the base ends in, and adds one that is missing (dedupe, versionPrefix)', () => {
    expect(passThroughUrl('http://127.0.0.1:9/v1', '/v1/chat/completions', [], { dedupe: true }).pathname).toBe('/v1/chat/completions');
    expect(passThroughUrl('https://api.openai.com', '/chat/completions', [], { versionPrefix: 'v1', dedupe: true }).pathname).toBe('/v1/chat/completions');
    expect(passThroughUrl('https://api.openai.com/v1', '/chat/completions', [], { versionPrefix: 'v1', dedupe: true }).pathname).toBe('/v1/chat/completions');
    expect(passThroughUrl('https://x.test/v1', '/v1/a', []).pathname).toBe('/v1/v1/a');
  });

  it('keeps a base without a path below it as written (no trailing slash added)', () => {
    expect(passThroughUrl('https://engine.test/v1/text-to-image', '', []).href).toBe('https://engine.test/v1/text-to-image');
    expect(passThroughUrl('https://engine.test', '/', []).href).toBe('https://engine.test/');
  });

  it('refuses paths that climb out of the base or smuggle another host', () => {
    for (const bad of ['/../admin', '/v1/%2e%2e/x', '/a/%2E/b', '/a//b', '/a%2Fb', '/a%5Cb', '/a\\b', '/a/%0d%0a', '/%zz']) {
      expect(() => passThroughUrl('https://api.test/base', bad, []), bad).toThrow(/pass-through path/);
    }
  });

  it('lets Bedrock\'s ARNs keep an encoded slash after model/, and nowhere else', () => {
    const arn = encodeURIComponent('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(passThroughUrl('https://bedrock.test', `/model/${arn}/converse`, [], { encodedSlashAfter: 'model' }).pathname).toBe(`/model/${arn}/converse`);
    expect(() => passThroughUrl('https://bedrock.test', `/model/${arn}/converse`, [])).toThrow(/pass-through path/);
    expect(() => passThroughUrl('https://bedrock.test', `/x/${arn}/converse`, [], { encodedSlashAfter: 'model' })).toThrow(/pass-through path/);
    expect(() => passThroughUrl('https://bedrock.test', '/model/a%2F..%2Fb/converse', [], { encodedSlashAfter: 'model' })).toThrow(/pass-through path/);
  });

  it('reads the path decoded, as the provider will (what a call is is decided on it)', () => {
    expect(readablePath(pathSegments('/v1/chat/complet%69ons/'))).toBe('/v1/chat/completions');
    expect(readablePath(pathSegments('/v1beta/models/gemini-flash%3AgenerateContent'))).toBe('/v1beta/models/gemini-flash:generateContent');
  });

  it('refuses a base with credentials, a query or a fragment (config values are checked too)', () => {
    expect(() => passThroughUrl('https://user:pw@host', '/x', [])).toThrow();
    expect(() => passThroughUrl('ftp://host', '/x', [])).toThrow();
  });
});

describe('forwardedHeaders', () => {
  const client = new Headers({
    authorization: 'Bearer sk-virtual', 'x-api-key': 'sk-virtual', 'x-goog-api-key': 'sk-virtual', 'x-litellm-api-key': 'sk-virtual', cookie: 'a=b',
    'content-type': 'application/json', accept: 'text/event-stream', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14',
    'x-litellm-tags': 'a', 'openai-organization': 'org-client', 'x-goog-user-project': 'other-project', 'x-amz-security-token': 'client-aws', 'x-pass-x-custom': '1', 'x-pass-authorization': 'Bearer smuggled', host: 'gateway', 'cf-connecting-ip': '1.2.3.4', 'my-key': 'sk-custom',
    'x-a2a-agent-authorization': 'Bearer agent-secret', 'x-mcp-github-authorization': 'Bearer mcp-secret', 'x-pass-x-mcp-trace': 'named-for-provider',
  });

  it('sends the client\'s headers on but never a credential, the gateway\'s own or hop-by-hop ones', () => {
    const out = Object.fromEntries(forwardedHeaders(client, { all: true, keyHeaders: ['my-key', undefined] }));
    // x-a2a-* and x-mcp-* are agents' and MCP servers' credentials: only one the client wraps in x-pass- goes on.
    expect(out).toEqual({ 'content-type': 'application/json', accept: 'text/event-stream', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'files-api-2025-04-14', 'x-custom': '1', 'x-mcp-trace': 'named-for-provider' });
  });

  it('sends only content-type, accept and x-pass-* without forward_headers', () => {
    expect(Object.fromEntries(forwardedHeaders(client, { all: false }))).toEqual({ 'content-type': 'application/json', accept: 'text/event-stream', 'x-custom': '1', 'x-mcp-trace': 'named-for-provider' });
  });
});

describe('returnedHeaders', () => {
  it('passes the provider\'s headers back but its framing, encoding, cookies and x-litellm-*', () => {
    const into = new Headers({ 'x-litellm-call-id': 'ours', 'content-type': 'application/json' });
    returnedHeaders(new Headers({ 'request-id': 'req_1', 'set-cookie': 'x=y', 'content-encoding': 'gzip', 'x-litellm-call-id': 'theirs', 'anthropic-ratelimit-requests-remaining': '9' }), into);
    expect(Object.fromEntries(into)).toEqual({ 'x-litellm-call-id': 'ours', 'content-type': 'application/json', 'request-id': 'req_1', 'anthropic-ratelimit-requests-remaining': '9' });
  });
});
