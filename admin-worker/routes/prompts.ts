/**
 * `/prompts`, LiteLLM's prompt management API: prompts stored in LiteLLM_PromptTable, a row per version
 * (`<id>.v<n>`), listed beside config.yaml's `prompts:` (which are changed only in config.yaml). Chat calls
 * apply them by `prompt_id` after config.yaml's (worker/prompts/stored.ts). Proxy admins list, read and write
 * every prompt; a key whose metadata `prompts` lists ids (an admin's too: LiteLLM checks the list first) lists
 * and reads those only; anyone else lists none, as in LiteLLM. Secrets in litellm_params are stored sealed and shown masked (prompts/rows.ts, prompts/shown.ts,
 * prompts/sent-back.ts).
 */
import { Hono } from 'hono';
import type { AdminBindings } from '../lib/context.ts';
import { promptReadRoutes } from './prompts/read.ts';
import { promptWriteRoutes } from './prompts/write.ts';

export const promptsRoutes = new Hono<AdminBindings>();

// The reads first, as they were registered: GET /prompts/list before GET /prompts/:prompt_id.
for (const routes of [promptReadRoutes, promptWriteRoutes]) promptsRoutes.route('/', routes);
