/**
 * A fake OIDC identity provider on loopback: serves its public keys at
 * `GET /jwks`, signs compact JWS tokens with node:crypto, and forges the bad
 * tokens a gateway must refuse. It counts JWKS fetches and can be told to fail
 * (500) or hang, so a gateway's key caching is tested against a real socket.
 */
import { constants, createHmac, createPublicKey, generateKeyPairSync, type KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwsAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'EdDSA';
export type Claims = Record<string, unknown>;

export interface IdpKey {
  kid: string;
  /** Published as the JWK's `alg`, and what `sign` uses by default. */
  alg: JwsAlg;
}

export interface FakeIdp {
  /** `http://127.0.0.1:PORT/jwks`, for JWT_PUBLIC_KEY_URL. */
  jwksUrl: string;
  /** GET /jwks requests received, failed and hung ones included. */
  readonly requests: number;
  /** A compact JWS of `claims` signed by the key `kid` (default: the first key) with `alg` (default: the key's). */
  sign(claims: Claims, options?: { kid?: string; alg?: JwsAlg }): string;
  /** Publishes a new key, as an IdP does when it rotates. */
  addKey(key: IdpKey): void;
  /** Rotation in one word: publishes `rsa-2` (RS256). */
  rotate(): void;
  /** `ok` serves the keys; `fail` answers 500; `hang` never answers. */
  setMode(mode: 'ok' | 'fail' | 'hang'): void;
  /** `alg: none` and an empty signature, under the first key's kid. */
  unsigned(claims: Claims): string;
  /** HS256 keyed with the PEM of the RSA public key `kid`: the RS/HS algorithm-confusion attack. */
  hmacWithPublicKey(claims: Claims, kid?: string): string;
  /** RS256 by a key the JWKS does not hold, sent under a kid it does (`rsa-1` by default). */
  signedByStranger(claims: Claims, kid?: string): string;
  /** A genuine token for `claims` whose payload is then swapped for `claims` with `changes`, signature kept. */
  tampered(claims: Claims, changes: Claims): string;
  close(): Promise<void>;
}

/** The keys a fake IdP starts with unless told otherwise. */
export const DEFAULT_KEYS: IdpKey[] = [{ kid: 'rsa-1', alg: 'RS256' }, { kid: 'ec-1', alg: 'ES256' }, { kid: 'ed-1', alg: 'EdDSA' }];

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const encode = (header: Claims, claims: Claims) => `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;

function generate(alg: JwsAlg): KeyObject {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** The raw signature of `input` as JWA (RFC 7518 section 3) defines it for `alg`. */
function signature(alg: JwsAlg, key: KeyObject, input: string): Buffer {
  if (alg === 'EdDSA') return cryptoSign(null, Buffer.from(input), key);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('PS')) {
    // RFC 7518 3.5: the PSS salt is as long as the hash.
    return cryptoSign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  }
  // RFC 7518 3.4: ECDSA signatures are r||s, not DER.
  if (alg.startsWith('ES')) return cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return cryptoSign(hash, Buffer.from(input), key);
}

function compact(alg: JwsAlg, kid: string, key: KeyObject, claims: Claims): string {
  const input = encode({ alg, typ: 'JWT', kid }, claims);
  return `${input}.${b64url(signature(alg, key, input))}`;
}

export async function startFakeIdp(options: { keys?: IdpKey[] } = {}): Promise<FakeIdp> {
  const keys = new Map<string, { alg: JwsAlg; key: KeyObject }>();
  const addKey = ({ kid, alg }: IdpKey) => void keys.set(kid, { alg, key: generate(alg) });
  for (const k of options.keys ?? DEFAULT_KEYS) addKey(k);
  const state = { requests: 0, mode: 'ok' as 'ok' | 'fail' | 'hang' };

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    if (state.mode === 'hang') return;
    if (state.mode === 'fail') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('fake idp failure');
      return;
    }
    const published = [...keys].map(([kid, { alg, key }]) => ({ ...createPublicKey(key).export({ format: 'jwk' }), kid, alg, use: 'sig' }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const keyOf = (kid: string) => {
    const found = keys.get(kid);
    if (!found) throw new Error(`fake idp: no key ${kid}`);
    return found;
  };
  const firstKid = () => keys.keys().next().value as string;
  const sign: FakeIdp['sign'] = (claims, { kid = firstKid(), alg } = {}) => {
    const found = keyOf(kid);
    return compact(alg ?? found.alg, kid, found.key, claims);
  };

  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    get requests() {
      return state.requests;
    },
    sign,
    addKey,
    rotate: () => addKey({ kid: 'rsa-2', alg: 'RS256' }),
    setMode(mode) {
      state.mode = mode;
    },
    unsigned: (claims) => `${encode({ alg: 'none', typ: 'JWT', kid: firstKid() }, claims)}.`,
    hmacWithPublicKey(claims, kid = 'rsa-1') {
      const pem = createPublicKey(keyOf(kid).key).export({ format: 'pem', type: 'spki' });
      const input = encode({ alg: 'HS256', typ: 'JWT', kid }, claims);
      return `${input}.${b64url(createHmac('sha256', pem).update(input).digest())}`;
    },
    signedByStranger: (claims, kid = 'rsa-1') => compact('RS256', kid, generate('RS256'), claims),
    tampered(claims, changes) {
      const [header, , sig] = sign(claims).split('.');
      return `${header}.${b64url(JSON.stringify({ ...claims, ...changes }))}.${sig}`;
    },
    close: () => new Promise<void>((resolve) => {
      // A hung /jwks request holds its socket open; server.close alone would wait for it forever.
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
