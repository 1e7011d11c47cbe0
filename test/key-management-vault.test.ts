import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeVault, fakeVault } from './fakes/secret-managers.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { chat, deployment, failure, type SecretManagerStack, startSecretManagerStack } from './support/key-management-stack.ts';
import { eventually } from './support/keys.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.key_management_system: hashicorp_vault: an `os.environ/NAME` credential the environment
// does not have is read from Vault (KV v2) when a call uses it, cached per isolate.

const VAULT_TOKEN = 'hvs.CAESIGtestvaulttoken0000000001';
const FROM_VAULT = 'sk-from-vault-0000000000000001';
const ROTATED = 'sk-from-vault-rotated-00000002';
const REFRESH_S = 3;

describe('HashiCorp Vault', () => {
  let upstream: FakeUpstream;
  let vaultServer: FakeUpstream;
  let vault: FakeVault;
  let stack: TestStack;
  let client: OpenAI;
  let running: SecretManagerStack;
  const path = (name: string) => `admin/kv/data/litellm/${name}`;
  const reads = (name: string) => vaultServer.requests.filter((r) => r.path === `/v1/${path(name)}`);

  beforeAll(async () => {
    vault = fakeVault(VAULT_TOKEN);
    for (const name of ['OPENAI_KEY_FROM_VAULT', 'OPENAI_KEY_BURST', 'OPENAI_KEY_ROTATING', 'OPENAI_KEY_LENT', 'OPENAI_KEY_PROBED']) vault.secrets.set(path(name), { key: FROM_VAULT });
    vault.secrets.set(path('NO_KEY_FIELD'), { value: FROM_VAULT });
    vault.denied.add(path('OPENAI_KEY_FORBIDDEN'));
    vault.delays.set(path('OPENAI_KEY_BURST'), 400);
    running = await startSecretManagerStack({
      manager: vault.behaviour,
      configYaml: (upstreamUrl) => `model_list:
${['OPENAI_KEY_FROM_VAULT', 'OPENAI_KEY_BURST', 'OPENAI_KEY_ROTATING', 'OPENAI_KEY_PROBED', 'OPENAI_KEY_FORBIDDEN', 'OPENAI_KEY_MISSING', 'NO_KEY_FIELD', 'OPENAI_KEY_IN_ENV']
    .map((name) => deployment(name.toLowerCase(), upstreamUrl, name)).join('')}
  - model_name: lent-openai
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/v1", api_key: os.environ/OPENAI_KEY_LENT, use_in_pass_through: true}
router_settings: {num_retries: 0}
general_settings:
  key_management_system: hashicorp_vault
`,
      env: (vaultUrl) => ({
        HCP_VAULT_ADDR: vaultUrl, HCP_VAULT_TOKEN: VAULT_TOKEN, HCP_VAULT_NAMESPACE: 'admin', HCP_VAULT_MOUNT_NAME: 'kv', HCP_VAULT_PATH_PREFIX: 'litellm',
        HCP_VAULT_REFRESH_INTERVAL: String(REFRESH_S), OPENAI_KEY_IN_ENV: 'sk-from-the-environment-0004',
      }),
    });
    ({ upstream, manager: vaultServer, stack, client } = running);
  });
  afterAll(() => running?.stop());

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
