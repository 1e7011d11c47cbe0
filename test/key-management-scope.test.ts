import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { type FakeVault, fakeVault } from './fakes/secret-managers.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { chat, deployment, type SecretManagerStack, startAwsSecretsStack, startSecretManagerStack } from './support/key-management-stack.ts';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.key_management_system, what it may read and where a value may show: only config.yaml's
// references are read (never an admin-added model's or credential's), pass-through reads after the caller
// is authenticated, and a value read never appears in an answer, a health report or a spend row.

const VAULT_TOKEN = 'hvs.CAESIGscopevaulttoken000000002';
const FROM_VAULT = 'sk-from-vault-scope-00000000011';
const PROD_SECRET = 'sk-prod-secret-not-for-admins-012';
const AWS = { accessKeyId: 'AKIATESTSECRETSMGR02', secretAccessKey: 'secrets/Manager+scope456789abcdefghijkl' };
const FROM_PRIMARY = 'sk-from-the-primary-secret-0013';

const headers = { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' };
const post = (url: string, body: unknown, auth = headers) => fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(body) });

it('never keeps a name with an empty, "." or ".." segment for the secret manager', () => {
  const raw = {
    model_list: ['../../sys/raw', 'a//b', 'ok/name'].map((name, i) => ({ model_name: `m${i}`, litellm_params: { model: 'openai/gpt-4o', api_key: `os.environ/${name}` } })),
    general_settings: { key_management_system: 'hashicorp_vault' },
  };
  const result = validateConfig(raw, { HCP_VAULT_TOKEN: 't' });
  expect(result.ok).toBe(true);
  expect(result.warnings).toEqual(expect.arrayContaining([
    'model_list[0].litellm_params.api_key: os.environ/../../sys/raw is not a name Tollgate reads from a secret manager (an empty, "." or ".." segment); calls to this deployment fail',
    expect.stringMatching(/^model_list\[1\]\.litellm_params\.api_key: os\.environ\/a\/\/b is not a name/),
  ]));
  expect(result.warnings.join('\n')).not.toContain('ok/name');
});

describe('HashiCorp Vault, with models in the database', () => {
  let upstream: FakeUpstream;
  let attacker: FakeUpstream;
  let vaultServer: FakeUpstream;
  let vault: FakeVault;
  let stack: TestStack;
  let client: OpenAI;
  let running: SecretManagerStack;
  const path = (name: string) => `secret/data/litellm/${name}`;

  beforeAll(async () => {
    attacker = await startFakeUpstream();
    vault = fakeVault(VAULT_TOKEN);
    vault.secrets.set(path('OPENAI_KEY_FROM_VAULT'), { key: FROM_VAULT });
    vault.secrets.set(path('prod/openai'), { key: PROD_SECRET });
    vault.denied.add(path('LENT_KEY_DENIED'));
    running = await startSecretManagerStack({
      manager: vault.behaviour,
      configYaml: (upstreamUrl) => `model_list:
  - model_name: vault-model
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstreamUrl}/v1", api_key: os.environ/OPENAI_KEY_FROM_VAULT}
  - model_name: lent-anthropic
    litellm_params: {model: anthropic/claude-3-5-haiku-latest, api_base: "${upstreamUrl}", api_key: os.environ/LENT_KEY_DENIED, use_in_pass_through: true}
router_settings: {num_retries: 0}
general_settings:
  store_model_in_db: true
  key_management_system: hashicorp_vault
`,
      env: (vaultUrl) => ({ HCP_VAULT_ADDR: vaultUrl, HCP_VAULT_TOKEN: VAULT_TOKEN, HCP_VAULT_PATH_PREFIX: 'litellm', LITELLM_SALT_KEY: 'test-salt-key-0123456789' }),
    });
    ({ upstream, manager: vaultServer, stack, client } = running);
  });
  afterAll(() => Promise.all([running?.stop(), attacker?.close()]));

  it('never reads a secret for a model or credential added through the admin API, whatever its api_base', async () => {
    const added = await post(`${stack.url}/model/new`, { model_name: 'exfil', litellm_params: { model: 'openai/gpt-4o', api_base: `${attacker.url}/v1`, api_key: 'os.environ/prod/openai' } });
    expect(added.status).toBe(200);
    const credential = await post(`${stack.url}/credentials`, { credential_name: 'stolen', credential_values: { api_key: 'os.environ/prod/openai' } });
    expect(credential.status).toBe(200);
    const viaCredential = await post(`${stack.url}/model/new`, { model_name: 'exfil-cred', litellm_params: { model: 'openai/gpt-4o', api_base: `${attacker.url}/v1`, litellm_credential_name: 'stolen' } });
    expect(viaCredential.status).toBe(200);
    const dotted = await post(`${stack.url}/model/new`, { model_name: 'exfil-dots', litellm_params: { model: 'openai/gpt-4o', api_base: `${attacker.url}/v1`, api_key: 'os.environ/../../secret/data/litellm/prod/openai' } });
    expect(dotted.status).toBe(200);
    // A name config.yaml does declare, but in a model of the admin API's: the environment's only (unset here).
    const named = await post(`${stack.url}/model/new`, { model_name: 'exfil-named', litellm_params: { model: 'openai/gpt-4o', api_base: `${attacker.url}/v1`, api_key: 'os.environ/OPENAI_KEY_FROM_VAULT' } });
    expect(named.status).toBe(200);
    const readsBefore = vaultServer.requests.length;
    const errors: Record<string, { status?: number; message: string }> = {};
    for (const model of ['exfil', 'exfil-cred', 'exfil-dots', 'exfil-named']) {
      // A model just added may take a moment to reach the router (a 400 until then).
      errors[model] = await eventually(async () => {
        const e = await chat(client, model).then(() => ({ status: 200, message: '' }), (x: unknown) => x as InstanceType<typeof OpenAI.APIError>);
        return e.status !== 400 ? { status: e.status, message: e.message } : undefined;
      });
    }
    expect(errors.exfil).toEqual({ status: 500, message: '500 Deployment exfil (openai/gpt-4o): litellm_params.api_key (os.environ/prod/openai) is not set in the environment, and only config.yaml\'s model_list and credential_list read credentials from hashicorp_vault' });
    expect([errors['exfil-cred']?.status, errors['exfil-dots']?.status]).toEqual([500, 500]);
    expect(JSON.stringify(errors)).not.toMatch(new RegExp(`${PROD_SECRET}|${FROM_VAULT}`));
    // exfil-named's unset variable is no secret manager reference: what reached the upstream carries no secret.
    for (const r of attacker.requests) expect(JSON.stringify(r.headers)).not.toMatch(new RegExp(`${PROD_SECRET}|${FROM_VAULT}`));
    expect(vaultServer.requests.length).toBe(readsBefore);
  });

  it('hands adapters the same resolved deployment while its values do not change, and checks hosted_keys at each read', async () => {
    vi.resetModules();
    const general = { key_management_system: 'hashicorp_vault', key_management_settings: { hosted_keys: ['OPENAI_KEY_FROM_VAULT', 'prod/openai'] } };
    vi.doMock('tollgate-config', () => ({ default: { source: 'config.yaml', compiledAt: '', config: { general_settings: general } } }));
    try {
      const { deploymentWithSecrets } = await import('../worker/secrets/resolve.ts');
      const { DECLARED_SECRETS: declaredKey } = await import('../worker/secrets/settings.ts');
      const env = { HCP_VAULT_ADDR: vaultServer.url, HCP_VAULT_TOKEN: VAULT_TOKEN, HCP_VAULT_PATH_PREFIX: 'litellm' };
      const deployment = (name: string, declared = true) => ({
        id: name, group: 'g', provider: 'openai' as const, model: 'gpt-4o', info: {},
        params: { model: 'openai/gpt-4o', api_key: `os.environ/${name}`, ...(declared ? { [declaredKey]: { api_key: name } } : {}) },
      });
      const d = deployment('OPENAI_KEY_FROM_VAULT');
      const first = await deploymentWithSecrets(d, env);
      expect(first.params.api_key).toBe(FROM_VAULT);
      expect(deploymentWithSecrets(d, env)).toBe(first);
      expect(d.params.api_key).toBe('os.environ/OPENAI_KEY_FROM_VAULT');
      const before = vaultServer.requests.length;
      expect(() => deploymentWithSecrets(deployment('OTHER_NAME'), env)).toThrow('litellm_params.api_key (os.environ/OTHER_NAME) is not set in the environment');
      expect(() => deploymentWithSecrets(deployment('prod/openai', false), env)).toThrow('(os.environ/prod/openai) is not set in the environment');
      expect(() => deploymentWithSecrets(deployment('prod/../prod/openai'), env)).toThrow('is not set in the environment');
      expect(vaultServer.requests.length).toBe(before);
    } finally {
      vi.doUnmock('tollgate-config');
      vi.resetModules();
    }
  });

  it('answers a pass-through call with an unknown key 401 without asking the secret manager', async () => {
    const body = { model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    const before = vaultServer.requests.length;
    const junk = await post(`${stack.url}/anthropic/v1/messages`, body, { ...headers, authorization: 'Bearer sk-junk-not-a-key' });
    expect(junk.status).toBe(401);
    expect(await junk.text()).not.toMatch(/LENT_KEY_DENIED|hashicorp_vault|lent-anthropic/);
    expect(vaultServer.requests.length).toBe(before);
    // The master key does reach the read (and Vault's refusal).
    const master = await post(`${stack.url}/anthropic/v1/messages`, body);
    expect(master.status).toBe(503);
    expect(vaultServer.requests.length).toBe(before + 1);
  });

  it('never shows a value read in /utils/transform_request, /health or a spend row', async () => {
    await chat(client, 'vault-model');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_VAULT}`);
    const shown = await post(`${stack.url}/utils/transform_request`, { call_type: 'completion', request_body: { model: 'vault-model', messages: [{ role: 'user', content: 'hi' }] } });
    expect(shown.status).toBe(200);
    const json = (await shown.json()) as { raw_request_headers: Record<string, string> };
    // The value read, masked: its last characters show, never the whole of it (nor the unread reference).
    expect(json.raw_request_headers.Authorization ?? json.raw_request_headers.authorization).toBe(`Bearer ...${FROM_VAULT.slice(-4)}`);
    expect(JSON.stringify(json)).not.toContain(FROM_VAULT);
    expect(JSON.stringify(json)).not.toContain('OPENAI_KEY_FROM_VAULT');
    const health = await fetch(`${stack.url}/health?model=vault-model`, { headers });
    const healthText = await health.text();
    expect(JSON.parse(healthText)).toMatchObject({ healthy_count: 1 });
    expect(healthText).not.toContain(FROM_VAULT);
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, 'SELECT row_to_json(s)::text AS row FROM "LiteLLM_SpendLogs" s WHERE model_group = $1', ['vault-model']);
      return found.length ? found : undefined;
    });
    for (const r of rows) expect(String(r.row)).not.toContain(FROM_VAULT);
  });
});

describe('AWS Secrets Manager with primary_secret_name', () => {
  let upstream: FakeUpstream;
  let awsServer: FakeUpstream;
  let client: OpenAI;
  let running: SecretManagerStack;

  beforeAll(async () => {
    running = await startAwsSecretsStack({
      credentials: AWS,
      region: 'eu-west-1',
      secrets: { 'litellm-secrets': JSON.stringify({ OPENAI_KEY_A: FROM_PRIMARY, OPENAI_KEY_B: FROM_PRIMARY }) },
      configYaml: (upstreamUrl) => `model_list:
${['OPENAI_KEY_A', 'OPENAI_KEY_B', 'NOT_IN_PRIMARY'].map((n) => deployment(n.toLowerCase(), upstreamUrl, n)).join('')}
router_settings: {num_retries: 0}
general_settings:
  key_management_system: aws_secret_manager_v2
  key_management_settings: {aws_region_name: eu-west-1, primary_secret_name: litellm-secrets}
`,
    });
    ({ upstream, manager: awsServer, client } = running);
  });
  afterAll(() => running?.stop());

  it('takes each name from the primary secret, read once for all of them', async () => {
    await chat(client, 'openai_key_a');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_PRIMARY}`);
    await chat(client, 'openai_key_b');
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FROM_PRIMARY}`);
    expect(awsServer.requests.map((r) => r.body)).toEqual([{ SecretId: 'litellm-secrets' }]);
    const missing = await chat(client, 'not_in_primary').then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(missing?.status).toBe(500);
    expect(missing?.message).toContain('could not read litellm_params.api_key (os.environ/NOT_IN_PRIMARY) from aws_secret_manager_v2: the primary secret litellm-secrets has no "NOT_IN_PRIMARY"');
    expect(JSON.stringify(missing?.error)).not.toContain(FROM_PRIMARY);
    expect(awsServer.requests).toHaveLength(1);
  });
});
