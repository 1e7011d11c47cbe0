/** What the prompts routes (read.ts, write.ts) both look up: config.yaml's prompt by id, and the request's database. */
import type { PromptSpec } from '../../../worker/prompts/schema.ts';
import type { GatewayState } from '../../../worker/state.ts';
import type { AdminContext } from '../../lib/context.ts';

export const configPrompt = (state: GatewayState, id: string): PromptSpec | undefined => state.config.prompts?.find((p) => p.prompt_id === id);

export const db = (c: AdminContext) => c.get('db')().db;
