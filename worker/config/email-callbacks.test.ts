import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

const withCallbacks = (callbacks: string[]) => ({
  model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m' } }],
  litellm_settings: { callbacks },
});

describe('email callbacks in config.yaml', () => {
  it('loads resend_email or sendgrid_email without a warning', () => {
    for (const name of ['resend_email', 'sendgrid_email']) {
      const result = validateConfig(withCallbacks([name]), {});
      if (!result.ok) throw new Error(result.errors.join('\n'));
      expect(result.warnings).toEqual([]);
    }
  });

  it('warns that with both named each email goes once, through the first with its API key, not through each as in LiteLLM', () => {
    const result = validateConfig(withCallbacks(['sendgrid_email', 'resend_email']), {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([
      'litellm_settings.callbacks: both sendgrid_email and resend_email are named: each email is sent once, through the first whose API key is set (LiteLLM sends it through each)',
    ]);
  });

  it('names the field each one is in when they are named in different callback lists, in the order the admin Worker reads them', () => {
    const config = { ...withCallbacks([]), litellm_settings: { failure_callback: ['resend_email'], success_callback: ['sendgrid_email', 'resend_email'] } };
    const result = validateConfig(config, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([
      'litellm_settings.success_callback: both sendgrid_email and resend_email are named: each email is sent once, through the first whose API key is set (LiteLLM sends it through each)',
    ]);
    const split = validateConfig({ ...withCallbacks([]), litellm_settings: { failure_callback: ['sendgrid_email'], callbacks: ['resend_email'] } }, {});
    if (!split.ok) throw new Error(split.errors.join('\n'));
    expect(split.warnings).toEqual([
      'litellm_settings.callbacks names resend_email and litellm_settings.failure_callback names sendgrid_email: each email is sent once, through the first whose API key is set (LiteLLM sends it through each)',
    ]);
  });

  it('warns that smtp_email sends nothing on Workers and names the HTTPS callbacks instead', () => {
    const result = validateConfig(withCallbacks(['smtp_email']), {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([
      'litellm_settings.callbacks: callback "smtp_email" is not supported by Tollgate: Workers cannot send SMTP (ignored); use resend_email or sendgrid_email, which send the same emails over HTTPS',
    ]);
  });
});
