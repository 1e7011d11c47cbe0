import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { SecretReadError } from '../worker/secrets/reader.ts';
import { SecretCache } from '../worker/secrets/secret-cache.ts';
import { type FakeAwsSecrets, fakeAwsSecrets, type FakeVault, fakeVault } from './fakes/secret-managers.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.key_management_system: an `os.environ/NAME` credential the environment does not have is
// read from HashiCorp Vault (KV v2) or AWS Secrets Manager when a call uses it, cached per isolate.

const VAULT_TOKEN = 'hvs.CAESIGtestvaulttoken0000000001';
const FROM_VAULT = 'sk-from-vault-0000000000000001';
const ROTATED = 'sk-from-vault-rotated-00000002';
const AWS = { accessKeyId: 'AKIATESTSECRETSMGR01', secretAccessKey: 'secrets/Manager+0123456789abcdefghijkl' };
const FROM_AWS = 'sk-from-aws-secrets-manager-003';
const REFRESH_S = 3;

const chat = (client: OpenAI, model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
const deployment = (name: string, upstream: string, key: string) => `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream}/v1", api_key: os.environ/${key}}\n`;

async function failure(call: Promise<unknown>): Promise<{ status: number; error: { message: string; type: string; code: string } }> {
  const err = await call.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.APIError);
  const api = err as InstanceType<typeof OpenAI.APIError>;
  return { status: api.status as number, error: api.error as { message: string; type: string; code: string } };
}

describe('config checks', () => {
  it('refuses an unknown system, listing the supported ones', () => {
    const result = validateConfig({ general_settings: { key_management_system: 'azure_key_vault' } }, {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      'general_settings.key_management_system: LiteLLM\'s "azure_key_vault" is not supported by Tollgate; supported: hashicorp_vault, aws_secret_manager, aws_secret_manager_v2',
    ]);
  });

  it('warns when the manager\'s own environment is missing, and keeps the reference for it', () => {
    const raw = { model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o', api_key: 'os.environ/IN_VAULT', api_version: 'os.environ/NOT_A_CREDENTIAL' } }], general_settings: { key_management_system: 'hashicorp_vault' } };
    const result = validateConfig(raw, {});
    expect(result.ok).toBe(true);
    expect(result.warnings).toContain('general_settings.key_management_system: hashicorp_vault: HCP_VAULT_TOKEN is not set (Tollgate authenticates to Vault with a token); calls whose credentials it holds fail until it is fixed');
    // Only credential fields are read from the manager; others unset are dropped, as without one.
    expect(result.warnings).toContain('model_list[0].litellm_params.api_version: os.environ/NOT_A_CREDENTIAL is not set');
    expect(result.warnings.join('\n')).not.toContain('IN_VAULT');
    expect(result.ok && result.config.model_list[0]?.litellm_params.api_key).toBe('os.environ/IN_VAULT');
    const aws = validateConfig({ ...raw, general_settings: { key_management_system: 'aws_secret_manager', key_management_settings: { store_virtual_keys: true } } }, {});
    expect(aws.warnings).toEqual(expect.arrayContaining([
      'general_settings.key_management_system: aws_secret_manager: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (a Worker has no instance role); calls whose credentials it holds fail until it is fixed',
      expect.stringMatching(/^general_settings\.key_management_settings\.store_virtual_keys: not supported/),
    ]));
  });

  it('reads only hosted_keys from the manager when they are listed, and nothing with access_mode write_only', () => {
    const raw = (settings: object) => ({
      model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o', api_key: 'os.environ/LISTED' } }, { model_name: 'n', litellm_params: { model: 'openai/gpt-4o', api_key: 'os.environ/UNLISTED' } }],
      general_settings: { key_management_system: 'hashicorp_vault', key_management_settings: settings },
    });
    const hosted = validateConfig(raw({ hosted_keys: ['LISTED'] }), { HCP_VAULT_TOKEN: 't' });
    expect(hosted.ok && hosted.config.model_list.map((m) => m.litellm_params.api_key)).toEqual(['os.environ/LISTED', undefined]);
    const writeOnly = validateConfig(raw({ access_mode: 'write_only' }), { HCP_VAULT_TOKEN: 't' });
    expect(writeOnly.ok && writeOnly.config.model_list.map((m) => m.litellm_params.api_key)).toEqual([undefined, undefined]);
  });
});

describe('the per-isolate secret cache', () => {
  it('keeps a value through a failed refresh until it is a day old, then waits for a read again', async () => {
    let now = 0;
    let answer: () => Promise<string> = async () => 'v1';
    let reads = 0;
    const cache = new SecretCache(() => (reads++, answer()), { refreshMs: 1_000, now: () => now });
    expect(await cache.get('K')).toBe('v1');
    now = 2_000;
    answer = async () => { throw new SecretReadError('Vault refused the read (HTTP 503)', 'unavailable'); };
    const refreshes: Promise<unknown>[] = [];
    expect(cache.get('K', (p) => refreshes.push(p))).toBe('v1');
    await Promise.all(refreshes);
    expect(cache.get('K')).toBe('v1');
    expect(reads).toBe(2);
    now = 24 * 60 * 60_000 + 1;
    await expect(cache.get('K')).rejects.toThrow('Vault refused the read (HTTP 503)');
    // A failure is remembered a few seconds: calls meanwhile do not each ask the manager.
    await expect(cache.get('K')).rejects.toThrow('HTTP 503');
    expect(reads).toBe(3);
  });

  it('starts a new read when an earlier one was abandoned (its request ended and the runtime dropped it)', async () => {
    let now = 0;
    let reads = 0;
    const cache = new SecretCache(() => (++reads === 1 ? new Promise<string>(() => undefined) : Promise.resolve('v2')), { now: () => now });
    void Promise.resolve(cache.get('K')).catch(() => undefined);
    expect(reads).toBe(1);
    now = 60_000;
    expect(await cache.get('K')).toBe('v2');
  });

  it('gives up on a read it joined when that read never settles (its request was cancelled)', async () => {
    const cache = new SecretCache(() => new Promise<string>(() => undefined), { waitMs: 100 });
    void Promise.resolve(cache.get('K')).catch(() => undefined);
    const started = Date.now();
    await expect(cache.get('K')).rejects.toMatchObject({ name: 'SecretReadError', kind: 'unavailable', message: 'the secret manager did not answer in time' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('HashiCorp Vault', () => {
  let upstream: FakeUpstream;
  let vaultServer: FakeUpstream;
  let vault: FakeVault;
  let stack: TestStack;
  let client: OpenAI;
  const path = (name: string) => `admin/kv/data/litellm/${name}`;
  const reads = (name: string) => vaultServer.requests.filter((r) => r.path === `/v1/${path(name)}`);

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    vault = fakeVault(VAULT_TOKEN);
    vaultServer = await startFakeUpstream({ default: vault.behaviour });
    for (const name of ['OPENAI_KEY_FROM_VAULT', 'OPENAI_KEY_BURST', 'OPENAI_KEY_ROTATING', 'OPENAI_KEY_LENT', 'OPENAI_KEY_PROBED']) vault.secrets.set(path(name), { key: FROM_VAULT });
    vault.secrets.set(path('NO_KEY_FIELD'), { value: FROM_VAULT });
    vault.denied.add(path('OPENAI_KEY_FORBIDDEN'));
    vault.delays.set(path('OPENAI_KEY_BURST'), 400);
    stack = await startTestStack({
      configYaml: `model_list:
${['OPENAI_KEY_FROM_VAULT', 'OPENAI_KEY_BURST', 'OPENAI_KEY_ROTATING', 'OPENAI_KEY_PROBED', 'OPENAI_KEY_FORBIDDEN', 'OPENAI_KEY_MISSING', 'NO_KEY_FIELD', 'OPENAI_KEY_IN_ENV']
    .map((name) => deployment(name.toLowerCase(), upstream.url, name)).join('')}
  - model_name: lent-openai
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: os.environ/OPENAI_KEY_LENT, use_in_pass_through: true}
router_settings: {num_retries: 0}
general_settings:
  key_management_system: hashicorp_vault
`,
      env: {
        HCP_VAULT_ADDR: vaultServer.url, HCP_VAULT_TOKEN: VAULT_TOKEN, HCP_VAULT_NAMESPACE: 'admin', HCP_VAULT_MOUNT_NAME: 'kv', HCP_VAULT_PATH_PREFIX: 'litellm',
        HCP_VAULT_REFRESH_INTERVAL: String(REFRESH_S), OPENAI_KEY_IN_ENV: 'sk-from-the-environment-0004',
      },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    await vaultServer?.close();
  });

  it('sends the Vault secret as the deployment\'s key, read once and then from the cache', async () => {
    const answer = await chat(client, 'openai_key_from_vault');
    expect(answer.choices[0]?.message.content).toBe('echo: hi');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    const [read] = reads('OPENAI_KEY_FROM_VAULT');
    expect(read?.method).toBe('GET');
    expect(read?.headers['x-vault-token']).toBe(VAULT_TOKEN);
    await chat(client, 'openai_key_from_vault');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    expect(reads('OPENAI_KEY_FROM_VAULT')).toHaveLength(1);
  });

  it('reads a secret once for calls that need it at the same time', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => chat(client, 'openai_key_burst')));
    expect(answers).toHaveLength(4);
    expect(reads('OPENAI_KEY_BURST')).toHaveLength(1);
  });

  it('takes the environment\'s value when it has one, without asking Vault', async () => {
    await chat(client, 'openai_key_in_env');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe('Bearer sk-from-the-environment-0004');
    expect(reads('OPENAI_KEY_IN_ENV')).toHaveLength(0);
  });

  it('serves a stale value at once and picks up a rotated secret in the background', async () => {
    await chat(client, 'openai_key_rotating');
    vault.secrets.set(path('OPENAI_KEY_ROTATING'), { key: ROTATED });
    await sleep(REFRESH_S * 1000 + 200);
    vault.delays.set(path('OPENAI_KEY_ROTATING'), 3_000);
    const started = Date.now();
    await chat(client, 'openai_key_rotating');
    // The call did not wait for Vault's slow answer (3 s): it went with the value it had.
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    // Once the background read lands, calls go with the rotated value; until then with the one they had.
    const seen: unknown[] = [];
    await eventually(async () => {
      await chat(client, 'openai_key_rotating');
      const authorization = upstream.requests.at(-1)?.headers.authorization;
      seen.push(authorization);
      return authorization === `Bearer ${ROTATED}` ? authorization : undefined;
    }, 10_000);
    expect(seen.filter((a) => a !== `Bearer ${FROM_VAULT}`)).toEqual([`Bearer ${ROTATED}`]);
    // The calls made while that read was pending started no second one.
    expect(reads('OPENAI_KEY_ROTATING')).toHaveLength(2);
  });

  it('answers a 503 naming the reference when Vault refuses the read, and a 500 when the secret is not there', async () => {
    const before = upstream.requests.length;
    const forbidden = await failure(chat(client, 'openai_key_forbidden'));
    expect(forbidden.status).toBe(503);
    expect(forbidden.error.message).toBe('Deployment openai_key_forbidden (openai/gpt-4o-mini) could not read litellm_params.api_key (os.environ/OPENAI_KEY_FORBIDDEN) from hashicorp_vault: Vault refused the read (HTTP 403)');
    const missing = await failure(chat(client, 'openai_key_missing'));
    expect(missing.status).toBe(500);
    expect(missing.error.message).toContain('(os.environ/OPENAI_KEY_MISSING) from hashicorp_vault: Vault has no such secret (HTTP 404)');
    const noKey = await failure(chat(client, 'no_key_field'));
    expect(noKey.status).toBe(500);
    expect(noKey.error.message).toContain('the Vault secret has no "key" field');
    for (const e of [forbidden, missing, noKey]) expect(JSON.stringify(e)).not.toMatch(new RegExp(`${VAULT_TOKEN}|${FROM_VAULT}`));
    // No provider was called without its key.
    expect(upstream.requests.length).toBe(before);
  });

  it('reads the secret for the other routes that call a deployment: pass-through and health checks', async () => {
    const passThrough = new OpenAI({ baseURL: `${stack.url}/openai_passthrough`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    await passThrough.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.requests.at(-1)?.path).toBe('/v1/chat/completions');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    const health = await fetch(`${stack.url}/health?model=openai_key_probed`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(await health.json()).toMatchObject({ healthy_count: 1, unhealthy_count: 0 });
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    expect(reads('OPENAI_KEY_PROBED')).toHaveLength(1);
  });
});

describe('AWS Secrets Manager', () => {
  let upstream: FakeUpstream;
  let awsServer: FakeUpstream;
  let aws: FakeAwsSecrets;
  let stack: TestStack;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    aws = fakeAwsSecrets(AWS, 'eu-central-1');
    aws.secrets.set('OPENAI_KEY_FROM_AWS', FROM_AWS);
    awsServer = await startFakeUpstream({ default: aws.behaviour });
    stack = await startTestStack({
      configYaml: `model_list:
${deployment('aws-held', upstream.url, 'OPENAI_KEY_FROM_AWS')}${deployment('aws-missing', upstream.url, 'NOT_IN_AWS')}
router_settings: {num_retries: 0}
general_settings:
  key_management_system: aws_secret_manager_v2
  key_management_settings: {aws_region_name: eu-central-1, access_mode: read_only}
`,
      env: { AWS_ACCESS_KEY_ID: AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey, AWS_ENDPOINT_URL_SECRETS_MANAGER: awsServer.url },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    await awsServer?.close();
  });

  it('reads the secret with a signed GetSecretValue and sends it as the key', async () => {
    await chat(client, 'aws-held');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_AWS}`);
    expect(aws.checks).toEqual([{ ok: true }]);
    const [read] = awsServer.requests;
    expect(read?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(read?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/\\d{8}/eu-central-1/secretsmanager/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`));
    expect(read?.body).toEqual({ SecretId: 'OPENAI_KEY_FROM_AWS' });
    await chat(client, 'aws-held');
    expect(awsServer.requests).toHaveLength(1);
  });

  it('answers a 500 naming the reference and AWS\'s error type when the secret does not exist', async () => {
    const missing = await failure(chat(client, 'aws-missing'));
    expect(missing.status).toBe(500);
    expect(missing.error.message).toBe('Deployment aws-missing (openai/gpt-4o-mini) could not read litellm_params.api_key (os.environ/NOT_IN_AWS) from aws_secret_manager_v2: AWS Secrets Manager refused the read (HTTP 400 ResourceNotFoundException)');
    expect(JSON.stringify(missing)).not.toContain(AWS.secretAccessKey);
  });
});
