import { describe, expect, it } from 'vitest';
import { storedPromptSpec } from './stored-params.ts';

const issues = (made: ReturnType<typeof storedPromptSpec>) => ('issues' in made ? made.issues.join('; ') : 'ok');

describe('a stored prompt\'s litellm_params', () => {
  it('a dotprompt with a template it can render is applied under its bare id', () => {
    const made = storedPromptSpec('greet', { prompt_integration: 'dotprompt', dotprompt_content: '---\ntemperature: 0.1\n---\nUser: Hi {{name}}.' }, { note: 'x' }, {});
    expect(made).toEqual({ spec: { prompt_id: 'greet', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: '---\ntemperature: 0.1\n---\nUser: Hi {{name}}.' }, prompt_info: { note: 'x' } } });
  });

  it('one that could never run says why', () => {
    expect(issues(storedPromptSpec('p', { prompt_integration: 'humanloop' }, null, {}))).toContain('"humanloop" is not supported by Tollgate yet');
    expect(issues(storedPromptSpec('p', { prompt_integration: 'dotprompt', prompt_directory: '/prompts' }, null, {}))).toContain('a dotprompt needs dotprompt_content, or prompt_data for "p"');
    expect(issues(storedPromptSpec('p', { prompt_integration: 'dotprompt', dotprompt_content: '{% for x in xs %}{{x}}{% endfor %}' }, null, {}))).toContain('which Tollgate does not render');
    expect(issues(storedPromptSpec('p', { prompt_integration: 'generic_prompt_management' }, null, {}))).toContain('litellm_params.api_base: is required for generic_prompt_management');
    expect(issues(storedPromptSpec('p.v2', { prompt_integration: 'dotprompt', dotprompt_content: 'Hi' }, null, {}))).toContain('ends like a version');
    expect(issues(storedPromptSpec('p', { dotprompt_content: 'Hi' }, null, {}))).toContain('litellm_params.prompt_integration');
  });

  it('reads os.environ/ in the store and credential fields only, never in a template', () => {
    const env = { PROMPT_KEY: 'pk-secret-1', PROMPT_BASE: 'https://prompts.example' };
    const made = storedPromptSpec('p', { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/PROMPT_BASE', api_key: 'os.environ/PROMPT_KEY', dotprompt_content: 'os.environ/PROMPT_KEY' }, null, env);
    expect('spec' in made && made.spec.litellm_params).toEqual({
      prompt_integration: 'generic_prompt_management', api_base: 'https://prompts.example', api_key: 'pk-secret-1', dotprompt_content: 'os.environ/PROMPT_KEY',
    });
  });

  it("a write is checked without the admin Worker's environment: references count as set, Langfuse keys may be the gateway's", () => {
    const generic = { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/PROMPT_BASE', api_key: 'os.environ/PROMPT_KEY' };
    expect(storedPromptSpec('p', generic, null, undefined)).toHaveProperty('spec');
    expect(storedPromptSpec('p', { prompt_integration: 'langfuse' }, null, undefined)).toHaveProperty('spec');
    expect(issues(storedPromptSpec('p', { prompt_integration: 'generic_prompt_management', api_base: 'not a url' }, null, undefined))).toContain('litellm_params.api_base');
  });

  it('the gateway names a variable it lacks, and the LANGFUSE_* keys a Langfuse prompt without its own needs', () => {
    const generic = { prompt_integration: 'generic_prompt_management', api_base: 'os.environ/PROMPT_BASE', api_key: 'os.environ/PROMPT_KEY' };
    expect(storedPromptSpec('p', generic, null, { PROMPT_KEY: 'k' })).toEqual({ needsEnv: 'litellm_params.api_base is os.environ/PROMPT_BASE, which is not set on the gateway' });
    expect(storedPromptSpec('p', { prompt_integration: 'langfuse', langfuse_host: 'https://lf.example' }, null, {})).toEqual({
      needsEnv: 'a Langfuse prompt without langfuse_public_key and langfuse_secret_key of its own needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (for LANGFUSE_HOST) set on the gateway',
    });
    expect(storedPromptSpec('p', { prompt_integration: 'langfuse' }, null, { LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk' })).toHaveProperty('spec');
  });
});
