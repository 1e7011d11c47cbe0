import { describe, expect, it } from 'vitest';
import type { PromptSpec } from './schema.ts';
import { GatewayError } from '../errors.ts';
import { knowsStoredPrompt, pickStoredPrompt, shownPromptId, type StoredPrompts, versionedId } from './stored-ids.ts';

const spec = (id: string, integration: string, text: string): PromptSpec => ({ prompt_id: id, litellm_params: { prompt_integration: integration, dotprompt_content: text } });
const stored: StoredPrompts = new Map([
  ['greet', new Map([[1, spec('greet', 'dotprompt', 'one')], [3, spec('greet', 'dotprompt', 'three')], [2, spec('greet', 'dotprompt', 'two')]])],
  ['remote', new Map([[1, spec('remote', 'langfuse', 'l1')], [2, spec('remote', 'langfuse', 'l2')]])],
]);
const text = (p: ReturnType<typeof pickStoredPrompt>) => p && [p.spec.litellm_params.dotprompt_content, p.version, p.versionTaken];

describe('stored prompt ids', () => {
  it('reads `<id>.v<n>` as LiteLLM shows a version, and nothing else', () => {
    expect(versionedId('greet.v2')).toEqual({ base: 'greet', version: 2 });
    expect(versionedId('my.valid.v12')).toEqual({ base: 'my.valid', version: 12 });
    for (const id of ['greet', 'greet.v', 'greet.v0', 'greet.v01', '.v2', 'greet.vx', 'greet.v2a']) expect(versionedId(id)).toBeUndefined();
    expect(shownPromptId('greet', 3)).toBe('greet.v3');
  });

  it('a bare id is its latest version; `.v<n>` and a dotprompt\'s prompt_version that version', () => {
    expect(text(pickStoredPrompt(stored, 'greet', undefined))).toEqual(['three', 3, false]);
    expect(text(pickStoredPrompt(stored, 'greet.v1', undefined))).toEqual(['one', 1, true]);
    expect(text(pickStoredPrompt(stored, 'greet', '2'))).toEqual(['two', 2, true]);
  });

  it('an unknown id picks nothing; a version a stored prompt does not have is a 400 naming its versions', () => {
    expect(pickStoredPrompt(stored, 'nope', undefined)).toBeUndefined();
    expect(pickStoredPrompt(stored, 'nope.v1', undefined)).toBeUndefined();
    const refusal = (id: string, version: string | undefined) => {
      try {
        pickStoredPrompt(stored, id, version);
      } catch (err) {
        return [(err as GatewayError).status, (err as GatewayError).param, (err as GatewayError).message];
      }
      throw new Error('expected a refusal');
    };
    expect(refusal('greet.v9', undefined)).toEqual([400, 'prompt_id', 'prompt_id "greet.v9" is not a version of stored prompt "greet" (its versions: 1, 2, 3)']);
    expect(refusal('greet', '9')).toEqual([400, 'prompt_version', 'prompt_version "9" is not a version of stored prompt "greet" (its versions: 1, 2, 3)']);
    expect(refusal('greet', 'latest')).toEqual([400, 'prompt_version', 'prompt_version "latest" is not a version of stored prompt "greet" (its versions: 1, 2, 3)']);
  });

  it('a copy answers without a read unless the prompt, or a version above its latest, is new to it', () => {
    for (const [id, version] of [['greet', undefined], ['greet.v2', undefined], ['greet', '1'], ['greet', 'latest'], ['remote', '99']] as const) {
      expect(knowsStoredPrompt(stored, id, version)).toBe(true);
    }
    for (const [id, version] of [['nope', undefined], ['nope.v1', undefined], ['greet.v4', undefined], ['greet', '4']] as const) {
      expect(knowsStoredPrompt(stored, id, version)).toBe(false);
    }
  });

  it("a Langfuse prompt's prompt_version is Langfuse's: the latest row, the version left for Langfuse", () => {
    expect(text(pickStoredPrompt(stored, 'remote', '7'))).toEqual(['l2', 2, false]);
    expect(text(pickStoredPrompt(stored, 'remote.v1', '7'))).toEqual(['l1', 1, false]);
  });

  it('a version this gateway cannot apply (a variable it lacks) is a 400 naming the variable, not "no such prompt"', () => {
    const lacking: StoredPrompts = new Map([['env', new Map([[1, { integration: 'generic_prompt_management', needsEnv: 'litellm_params.api_base is os.environ/PROMPT_BASE, which is not set on the gateway' }]])]]);
    expect(knowsStoredPrompt(lacking, 'env', undefined)).toBe(true);
    for (const id of ['env', 'env.v1']) {
      expect(() => pickStoredPrompt(lacking, id, undefined)).toThrow(expect.objectContaining({
        status: 400, param: 'prompt_id', message: 'stored prompt "env.v1" cannot be used: litellm_params.api_base is os.environ/PROMPT_BASE, which is not set on the gateway',
      }));
    }
  });
});
