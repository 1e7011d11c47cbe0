import { describe, expect, it } from 'vitest';
import { scrub, secretsOf } from './secrets.ts';

describe('the loggers\' secrets', () => {
  it('takes out an account\'s key and service account, never its name: a word such as `logs` stays readable in every reason', () => {
    const key = 'ZmFrZS1henVyZS1hY2NvdW50LWtleQ==';
    const secrets = secretsOf({ AZURE_STORAGE_ACCOUNT_NAME: 'logs', AZURE_STORAGE_ACCOUNT_KEY: key, GCS_PATH_SERVICE_ACCOUNT: 'svc-account-json' }, undefined);
    expect(secrets).not.toContain('logs');
    expect(scrub(`HTTP 404 for logs/2026-01-31/c.json (key ${key}, svc-account-json)`, secrets))
      .toBe('HTTP 404 for logs/2026-01-31/c.json (key [redacted], [redacted])');
  });
});
