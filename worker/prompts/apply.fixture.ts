/** The prompts and the refusal catcher apply's suites (apply.test.ts, apply-generic.test.ts) share. */
import type { GatewayError } from '../errors.ts';
import { promptsSchema } from './schema.ts';

export const prompts = promptsSchema.parse([
  { prompt_id: 'helper', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: '---\nmodel: gpt-4o\ntemperature: 0.2\n---\nSystem: Help with {{topic}}.' } },
  { prompt_id: 'keep', litellm_params: { prompt_integration: 'dotprompt', ignore_prompt_manager_model: true, ignore_prompt_manager_optional_params: true, dotprompt_content: '---\nmodel: gpt-4o\ntemperature: 0.2\n---\nSystem: Fixed.' } },
  { prompt_id: 'remote', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'https://prompts.example/', api_key: 'pk-secret', provider_specific_query_params: { project: 'p1' }, timeout: 0.05 } },
  { prompt_id: 'hl', litellm_params: { prompt_integration: 'humanloop' } },
]);

export const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as GatewayError);
