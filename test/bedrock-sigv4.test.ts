import { describe, expect, it } from 'vitest';
import { authHeaders, bedrockAuth } from '../worker/providers/bedrock/auth.ts';
import type { DeploymentRef } from '../worker/models/deployments.ts';
import { verifySigV4 } from './fakes/sigv4-verifier.ts';

const creds = { accessKeyId: 'AKIATESTKEY000000001', secretAccessKey: 'test/Secret+Key/0123456789abcdefghijklmn', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEsessiontoken==' };

function deployment(params: Record<string, string>): DeploymentRef {
  return { id: 'd', group: 'g', provider: 'bedrock', model: 'anthropic.claude-v2', params: { model: 'bedrock/anthropic.claude-v2', ...params }, info: {} };
}

async function signed(path: string, body: string, sessionToken?: string) {
  const url = new URL(`https://bedrock-runtime.eu-west-1.amazonaws.com${path}`);
  const auth = { kind: 'sigv4' as const, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, region: 'eu-west-1', ...(sessionToken ? { sessionToken } : {}) };
  const headers = await authHeaders(auth, url, body, { 'content-type': 'application/json', accept: 'application/json' });
  return { url, headers };
}

describe('the fake servers\' SigV4 verifier', () => {
  it('accepts AWS\'s documented example request (IAM ListUsers, 2015-08-30)', () => {
    const check = verifySigV4({
      method: 'GET',
      rawPath: '/',
      query: { Action: 'ListUsers', Version: '2010-05-08' },
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        host: 'iam.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
      },
      body: '',
    }, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, { service: 'iam', region: 'us-east-1' }, new Date('2015-08-30T12:36:00Z'));
    expect(check).toEqual({ ok: true });
  });
});

describe('Bedrock request signing', () => {
  it('signs a model id whose ":" travels as %3A (signed as %253A), with the session token', async () => {
    const body = '{"messages":[{"role":"user","content":[{"text":"hi"}]}]}';
    const { url, headers } = await signed('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse', body, creds.sessionToken);
    expect(url.pathname).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(headers['x-amz-security-token']).toBe(creds.sessionToken);
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIATESTKEY000000001\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=accept;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    const request = { method: 'POST', rawPath: url.pathname, query: {}, headers: { ...headers, host: url.host }, body };
    expect(verifySigV4(request, creds, { service: 'bedrock', region: 'eu-west-1' })).toEqual({ ok: true });
    expect(verifySigV4({ ...request, body: body.replace('hi', 'ho') }, creds, { service: 'bedrock', region: 'eu-west-1' })).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySigV4(request, { ...creds, secretAccessKey: 'another-secret' }, { service: 'bedrock', region: 'eu-west-1' })).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySigV4({ ...request, rawPath: '/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse' }, creds, { service: 'bedrock', region: 'eu-west-1' }))
      .toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('signs an inference-profile ARN, whose "/" travels as %2F', async () => {
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3d4';
    const { url, headers } = await signed(`/model/${encodeURIComponent(arn)}/converse-stream`, '{}');
    expect(url.pathname).toBe('/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3d4/converse-stream');
    expect(verifySigV4({ method: 'POST', rawPath: url.pathname, query: {}, headers: { ...headers, host: url.host }, body: '{}' }, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, { service: 'bedrock', region: 'eu-west-1' }))
      .toEqual({ ok: true });
  });
});

describe('Bedrock credentials', () => {
  it('come from the deployment, else the env; an env session token never joins a configured key', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token', AWS_REGION: 'ap-south-1' };
    expect(bedrockAuth(deployment({ aws_access_key_id: 'AKIACONF', aws_secret_access_key: 'conf-secret', aws_region_name: 'eu-central-1' }), env))
      .toEqual({ kind: 'sigv4', accessKeyId: 'AKIACONF', secretAccessKey: 'conf-secret', region: 'eu-central-1' });
    expect(bedrockAuth(deployment({}), env)).toEqual({ kind: 'sigv4', accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret', sessionToken: 'env-token', region: 'ap-south-1' });
    expect(bedrockAuth(deployment({}), { ...env, AWS_REGION_NAME: 'us-east-2' })).toMatchObject({ region: 'us-east-2' });
    expect(bedrockAuth(deployment({ api_key: 'bedrock-api-key-123' }), env)).toEqual({ kind: 'bearer', token: 'bedrock-api-key-123', region: 'ap-south-1' });
    expect(bedrockAuth(deployment({}), { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret' })).toMatchObject({ region: 'us-west-2' });
    expect(() => bedrockAuth(deployment({}), {})).toThrow(/needs aws_access_key_id and aws_secret_access_key/);
  });
});
