/**
 * Fake Google OAuth token endpoint for Vertex AI tests: it checks the
 * service account's RS256 JWT with the test key pair's public key
 * (node:crypto, independently of the gateway's WebCrypto signer) and the
 * jwt-bearer grant's claims, then hands out numbered access tokens.
 */
import { createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Behaviour, RecordedRequest } from './upstream.ts';

export interface TestServiceAccount {
  /** The key file's JSON text, as `vertex_credentials` takes it. */
  json: string;
  clientEmail: string;
  privateKeyId: string;
  publicKey: KeyObject;
}

export function testServiceAccount(tokenUri: string, projectId = 'tollgate-test-project'): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = 'tollgate-test@tollgate-test-project.iam.gserviceaccount.com';
  const privateKeyId = '0f1e2d3c4b5a69788796a5b4c3d2e1f001234567';
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
  });
  return { json, clientEmail, privateKeyId, publicKey };
}

export type JwtCheck = { ok: true; claims: Record<string, unknown>; header: Record<string, unknown> } | { ok: false; reason: string };

const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Verifies a jwt-bearer token request's assertion against the account, for `scope` (Vertex AI's cloud-platform by default). */
export function verifyAssertion(form: URLSearchParams, account: TestServiceAccount, audience: string, now = Date.now(), scope = 'https://www.googleapis.com/auth/cloud-platform'): JwtCheck {
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { ok: false, reason: `grant_type ${form.get('grant_type')}` };
  const parts = (form.get('assertion') ?? '').split('.');
  if (parts.length !== 3) return { ok: false, reason: 'assertion is not a JWT' };
  const [h, c, s] = parts as [string, string, string];
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${c}`);
  if (!verifier.verify(account.publicKey, Buffer.from(s, 'base64url'))) return { ok: false, reason: 'Invalid JWT Signature.' };
  const header = decodePart(h);
  const claims = decodePart(c);
  const seconds = Math.floor(now / 1000);
  if (header.alg !== 'RS256') return { ok: false, reason: `alg ${String(header.alg)}` };
  if (claims.iss !== account.clientEmail) return { ok: false, reason: `iss ${String(claims.iss)}` };
  if (claims.aud !== audience) return { ok: false, reason: `aud ${String(claims.aud)}` };
  if (claims.scope !== scope) return { ok: false, reason: `scope ${String(claims.scope)}` };
  if (typeof claims.iat !== 'number' || Math.abs(claims.iat - seconds) > 300) return { ok: false, reason: 'iat not now' };
  if (claims.exp !== claims.iat + 3600) return { ok: false, reason: 'exp is not iat + 1h' };
  return { ok: true, claims, header };
}

export interface FakeTokenEndpoint {
  checks: JwtCheck[];
  /** Tokens handed out, in order: `ya29.test-access-token-1`, `-2`, ... */
  issued: string[];
  behaviour: Behaviour;
}

export function fakeTokenEndpoint(account: TestServiceAccount, audience: string, expiresIn = 3599): FakeTokenEndpoint {
  const checks: JwtCheck[] = [];
  const issued: string[] = [];
  const behaviour: Behaviour = {
    kind: 'handler',
    handle: (request: RecordedRequest, res: ServerResponse) => {
      const check = request.headers['content-type'] === 'application/x-www-form-urlencoded'
        ? verifyAssertion(new URLSearchParams(request.rawBody), account, audience)
        : { ok: false as const, reason: `content-type ${request.headers['content-type']}` };
      checks.push(check);
      if (!check.ok) return json(res, 400, { error: 'invalid_grant', error_description: check.reason });
      const token = `ya29.test-access-token-${issued.length + 1}`;
      issued.push(token);
      json(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' });
    },
  };
  return { checks, issued, behaviour };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** Gemini's SSE framing: each payload as `data: <json>\r\n\r\n`. */
export function geminiSse(payloads: unknown[]): string[] {
  return payloads.map((p) => `data: ${typeof p === 'string' ? p : JSON.stringify(p)}\r\n\r\n`);
}
