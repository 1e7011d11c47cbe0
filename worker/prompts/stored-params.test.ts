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

  it("a row naming the gateway's own secrets (written by SQL, or by a LiteLLM sharing the database) is refused, never resolved", () => {
    const env = { LITELLM_MASTER_KEY: 'sk-master-1', LITELLM_SALT_KEY: 'salt-1', DATABASE_URL: 'postgres://u:p@db/x', PROMPT_BASE: 'https://prompts.example' };
    const stolen = storedPromptSpec('p', { prompt_integration: 'generic_prompt_management', api_base: 'https://attacker.example', api_key: 'os.environ/LITELLM_MASTER_KEY' }, null, env);
    expect(stolen).toEqual({ needsEnv: "litellm_params.api_key is os.environ/LITELLM_MASTER_KEY, refused: the gateway's own secrets are never sent for a stored prompt" });
    const several = storedPromptSpec('p', { prompt_integration: 'langfuse', langfuse_host: 'os.environ/PROMPT_BASE', langfuse_public_key: 'os.environ/DATABASE_URL', langfuse_secret_key: 'os.environ/LITELLM_SALT_KEY' }, null, env);
    expect(several).toEqual({ needsEnv: "litellm_params.langfuse_public_key is os.environ/DATABASE_URL, litellm_params.langfuse_secret_key is os.environ/LITELLM_SALT_KEY, refused: the gateway's own secrets are never sent for a stored prompt" });
    for (const made of [stolen, several]) expect(JSON.stringify(made)).not.toMatch(/sk-master-1|salt-1|postgres:/);
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
