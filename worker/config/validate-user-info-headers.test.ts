import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

const withSetting = (value: unknown) => ({
  model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m' } }],
  litellm_settings: { add_user_information_to_llm_headers: value },
});

describe('litellm_settings.add_user_information_to_llm_headers', () => {
  it('is taken as a boolean, with no "not supported" warning', () => {
    const result = validateConfig(withSetting(true), {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.litellm_settings.add_user_information_to_llm_headers).toBe(true);
    expect(result.warnings.join('\n')).not.toContain('add_user_information_to_llm_headers');
  });

  it('refuses a value that is not a boolean, naming the setting', () => {
    const result = validateConfig(withSetting({ on: 1 }), {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('litellm_settings.add_user_information_to_llm_headers');
  });
});
