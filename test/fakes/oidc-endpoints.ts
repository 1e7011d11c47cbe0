/**
 * A fake OpenID provider's discovery document and UserInfo endpoint on loopback (its keys are a fake IdP's,
 * test/fakes/jwks.ts): `GET /.well-known/openid-configuration` names `jwks_uri` and `userinfo_endpoint` as a real
 * provider's does (OpenID Connect Discovery 1.0 section 4), and `GET /userinfo` answers a Bearer access token with
 * the identity it was issued for (OpenID Connect Core 1.0 section 5.3), or a 401 with `WWW-Authenticate` for a
 * token it does not know. It counts requests and can be told to fail (500), hang, or answer any status and body (a
 * 429 with `Retry-After`, a 302, an oversized identity).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Claims } from './jwks.ts';

export interface FakeOidc {
  /** `http://127.0.0.1:PORT`: the issuer, whose discovery document is at `/.well-known/openid-configuration`. */
  issuer: string;
  userinfoUrl: string;
  /** Requests received per path, failed and hung ones included. */
  readonly discoveryRequests: number;
  readonly userinfoRequests: number;
  /** The `Authorization` headers UserInfo received, in order. */
  readonly authorizations: string[];
  /** An access token the provider knows, and the identity UserInfo returns for it. */
  issue(token: string, claims: Claims): void;
  /** Forgets a token, as a provider does when it is revoked: UserInfo answers 401 for it from then on. */
  revoke(token: string): void;
  /** `ok` answers; `fail` answers 500; `hang` never answers. Applies to UserInfo. */
  setMode(mode: 'ok' | 'fail' | 'hang'): void;
  /** UserInfo answers every request with `status`, `headers` and `body` (empty by default) until setMode('ok'). */
  answerWith(status: number, headers?: Record<string, string>, body?: string): void;
  close(): Promise<void>;
}

export async function startFakeOidc(options: { jwksUrl: string }): Promise<FakeOidc> {
  const tokens = new Map<string, Claims>();
  const state = { discovery: 0, userinfo: 0, mode: 'ok' as 'ok' | 'fail' | 'hang' | 'status', status: 200, headers: {} as Record<string, string>, body: '', authorizations: [] as string[] };
  let base = '';

  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      state.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        issuer: base, jwks_uri: options.jwksUrl, userinfo_endpoint: `${base}/userinfo`,
        id_token_signing_alg_values_supported: ['RS256'], subject_types_supported: ['public'], response_types_supported: ['code'],
      }));
      return;
    }
    if ((req.method === 'GET' || req.method === 'POST') && path === '/userinfo') {
      state.userinfo++;
      const authorization = req.headers.authorization ?? '';
      state.authorizations.push(authorization);
      if (state.mode === 'hang') return;
      if (state.mode === 'status') {
        res.writeHead(state.status, state.headers).end(state.body);
        return;
      }
      if (state.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('fake userinfo failure');
        return;
      }
      const claims = authorization.startsWith('Bearer ') ? tokens.get(authorization.slice(7)) : undefined;
      if (!claims) {
        // RFC 6750 section 3.1: an unknown, expired or revoked token.
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token", error_description="The access token is invalid"' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claims));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: base,
    userinfoUrl: `${base}/userinfo`,
    get discoveryRequests() {
      return state.discovery;
    },
    get userinfoRequests() {
      return state.userinfo;
    },
    get authorizations() {
      return state.authorizations;
    },
    issue: (token, claims) => void tokens.set(token, claims),
    revoke: (token) => void tokens.delete(token),
    setMode(mode) {
      state.mode = mode;
    },
    answerWith(status, headers = {}, body = '') {
      Object.assign(state, { mode: 'status', status, headers, body });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
