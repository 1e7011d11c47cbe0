/**
 * Fake secret managers on the fake upstream (upstream.ts, a `handler` default): HashiCorp Vault's KV v2
 * read API and AWS Secrets Manager's GetSecretValue, each checking what the real one checks (the token;
 * the SigV4 signature, its credential scope and the JSON 1.1 target) and answering in its wire format.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsTestCredentials, type SigV4Check, verifySigV4 } from './sigv4-verifier.ts';
import type { Behaviour, RecordedRequest } from './upstream.ts';

const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
};

export interface FakeVault {
  behaviour: Behaviour;
  /** Path under `/v1/` (e.g. `admin/kv/data/litellm/NAME`) → the secret's `data`. */
  secrets: Map<string, Record<string, string>>;
  /** Paths the token may not read (Vault's 403 "permission denied"). */
  denied: Set<string>;
  /** Answer delay per path, to hold a first read open. */
  delays: Map<string, number>;
}

/** Vault's KV v2: `GET /v1/{path}` with `X-Vault-Token`, `{"data":{"data":{...},"metadata":{...}}}`. */
export function fakeVault(token: string): FakeVault {
  const vault: FakeVault = {
    secrets: new Map(), denied: new Set(), delays: new Map(),
    behaviour: {
      kind: 'handler',
      handle: async (request: RecordedRequest, res: ServerResponse) => {
        const path = request.path.replace(/^\/v1\//, '');
        await sleep(vault.delays.get(path) ?? 0);
        if (request.method !== 'GET' || !request.path.startsWith('/v1/')) return send(res, 405, { errors: [] });
        if (request.headers['x-vault-token'] !== token) return send(res, 403, { errors: ['permission denied'] });
        if (vault.denied.has(path)) return send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
        const data = vault.secrets.get(path);
        if (!data) return send(res, 404, { errors: [] });
        send(res, 200, {
          request_id: '036ba77c-018b-31dd-047b-323bcd0cd332', lease_id: '', renewable: false, lease_duration: 0,
          data: { data, metadata: { created_time: '2026-11-01T22:13:50.93942388Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 1 } },
          wrap_info: null, warnings: null, auth: null, mount_type: 'kv',
        });
      },
    },
  };
  return vault;
}

export interface FakeAwsSecrets {
  behaviour: Behaviour;
  secrets: Map<string, string>;
  checks: SigV4Check[];
}

/** Secrets Manager's JSON 1.1 API: `POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`, SigV4 (`secretsmanager`). */
export function fakeAwsSecrets(credentials: AwsTestCredentials, region: string): FakeAwsSecrets {
  const aws: FakeAwsSecrets = {
    secrets: new Map(), checks: [],
    behaviour: {
      kind: 'handler',
      handle: (request: RecordedRequest, res: ServerResponse) => {
        const error = (status: number, type: string, message: string) => send(res, status, { __type: type, message }, 'application/x-amz-json-1.1');
        const check = verifySigV4({ method: request.method, rawPath: request.path, query: request.query, headers: request.headers, body: request.rawBody }, credentials, { service: 'secretsmanager', region });
        aws.checks.push(check);
        if (!check.ok) return error(400, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
        if (request.method !== 'POST' || request.path !== '/') return error(404, 'UnknownOperationException', '');
        if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') return error(400, 'UnknownOperationException', '');
        if (!request.headers['content-type']?.startsWith('application/x-amz-json-1.1')) return error(400, 'SerializationException', '');
        const id = (request.body as { SecretId?: unknown }).SecretId;
        const value = typeof id === 'string' ? aws.secrets.get(id) : undefined;
        if (value === undefined) return error(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        send(res, 200, {
          ARN: `arn:aws:secretsmanager:${region}:123456789012:secret:${String(id)}-AbCdEf`, Name: id, SecretString: value,
          VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', VersionStages: ['AWSCURRENT'], CreatedDate: 1.523477145713E9,
        }, 'application/x-amz-json-1.1');
      },
    },
  };
  return aws;
}
