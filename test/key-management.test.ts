import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { SecretReadError } from '../worker/secrets/reader.ts';
import { SecretCache } from '../worker/secrets/secret-cache.ts';

// general_settings.key_management_system: an `os.environ/NAME` credential the environment does not have is
// read from HashiCorp Vault (KV v2) or AWS Secrets Manager when a call uses it, cached per isolate.
// Here the config checks and the cache; the reads through the gateway are in key-management-vault.test.ts
// and key-management-aws.test.ts.

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
