/**
 * A model call's managed prompt, held behind the key check: as LiteLLM authenticates first, a caller without a
 * valid key gets its 401 before any refusal of a body naming a prompt, and learns nothing of the prompt: not its
 * layout (`messages.1.role`), placeholders or kept labels, nor which prompts lack keys or which versions and
 * labels they take. call-body.ts reads the body; this decides what its `prompt_id` does.
 */
import type { PromptSpec } from '../prompts/schema.ts';
import { refusePromptId, type StoredPromptLookup, withManagedPrompt } from '../prompts/apply.ts';

type Body = Record<string, unknown>;

export const namesPrompt = (body: Body): boolean => body.prompt_id !== undefined && body.prompt_id !== null;

/**
 * Refuses a body naming a prompt on a route that applies none (every route but chat completions, and a chat body
 * another route built), once the key is checked.
 */
export async function refuseUnappliedPrompt(body: Body, route: string, authenticated: () => Promise<void>): Promise<void> {
  await authenticated();
  refusePromptId(body, route);
}

/**
 * A chat body with its managed prompt in (config.yaml's, else a stored one), checked (`check`, the route's
 * schema). Any refusal waits for the key check, which runs once a call at most, however many steps ask (a prompt
 * API's fetch, then a refusal); a body that passes without a fetch (a dotprompt, a kept answer: admission checks
 * its key before anything is sent), and one naming no prompt, pays nothing more.
 */
export async function promptedBody(
  raw: Body, prompts: readonly PromptSpec[] | undefined, authenticated: () => Promise<void>, check: (body: Body) => Body, stored?: StoredPromptLookup,
): Promise<Body> {
  if (!namesPrompt(raw)) return check(raw);
  let confirmed: Promise<void> | undefined;
  const confirm = () => (confirmed ??= authenticated());
  try {
    return check(await withManagedPrompt(raw, prompts, confirm, undefined, stored));
  } catch (err) {
    await confirm();
    throw err;
  }
}
