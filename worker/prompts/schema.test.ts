import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';

describe("config.yaml's prompts", () => {
  it('loads built integrations, and warns (without failing) about others, prompt files and block templates', () => {
    const result = validateConfig({
      prompts: [
        { prompt_id: 'a', litellm_params: { prompt_id: 'a', prompt_integration: 'dotprompt', dotprompt_content: 'User: {{q}}' } },
        { prompt_id: 'b', litellm_params: { prompt_integration: 'dotprompt', prompt_directory: './prompts' } },
        { prompt_id: 'c', litellm_params: { prompt_integration: 'humanloop' } },
        { prompt_id: 'd', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: '{% if x %}y{% endif %}' } },
        { prompt_id: 'e', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'https://p.example', api_key: 'os.environ/PROMPT_KEY' } },
      ],
    }, { PROMPT_KEY: 'k1' });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.prompts?.map((p) => p.prompt_id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(result.config.prompts?.[4]?.litellm_params.api_key).toBe('k1');
    const mine = result.warnings.filter((w) => w.startsWith('prompts'));
    expect(mine).toEqual([
      'prompts[1].litellm_params.prompt_directory: files cannot be read by a Worker; put the prompt in dotprompt_content or prompt_data',
      'prompts[2].litellm_params.prompt_integration: "humanloop" is not supported by Tollgate yet (only dotprompt, generic_prompt_management, langfuse): calls with prompt_id "c" are refused',
      'prompts[3].litellm_params: prompt "d" uses {% if x %}, which Tollgate does not render (only {{ variable }}): its calls are refused',
    ]);
  });

  it('refuses a generic prompt without api_base or with a timeout of 0 or less, a duplicate id and a missing integration', () => {
    const result = validateConfig({
      prompts: [
        { prompt_id: 'x', litellm_params: { prompt_integration: 'generic_prompt_management' } },
        { prompt_id: 'x', litellm_params: {} },
        { prompt_id: 'zero', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'https://p.example', timeout: 0 } },
        { prompt_id: 'minus', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'https://p.example', timeout: -1 } },
      ],
    }, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(expect.arrayContaining([
      'prompts[0].litellm_params.api_base: is required for generic_prompt_management',
      'prompts[1].litellm_params.prompt_integration: is required',
      'prompts[2].litellm_params.timeout: must be more than 0 seconds',
      'prompts[3].litellm_params.timeout: must not be negative',
    ]));
  });
});
