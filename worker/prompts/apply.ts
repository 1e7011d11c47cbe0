import { badRequest, GatewayError } from '../errors.ts';
import { GATEWAY_PARAMS } from '../providers/openai-compatible/params.ts';
import { compileDotprompt, type DotpromptTemplate, loadDotprompts, pickDotprompt } from './dotprompt.ts';
import { compileGenericPrompt, type PromptCall } from './generic.ts';
import { compileLangfuse } from './langfuse.ts';
import type { PromptSpec } from './schema.ts';
import type { StoredPick } from './stored-ids.ts';
import type { CompiledPrompt } from './types.ts';

/**
 * A chat call naming a managed prompt (`prompt_id`, with `prompt_variables`, `prompt_version`,
 * `prompt_label`): the prompt's messages go before the caller's, and, as LiteLLM merges them, the
 * prompt's model replaces the request's and its settings win over the request's (unless the prompt's
 * `ignore_prompt_manager_model` / `ignore_prompt_manager_optional_params`). The result is checked like
 * any chat body, so the key's model access holds for the model actually called. `beforeFetch` runs
 * only when a prompt API is to be asked (generic.ts, langfuse.ts): a dotprompt or a kept answer is local work,
 * and the caller confirms the key before giving any refusal (call-body.ts), admission before anything is sent.
 * config.yaml's prompts are looked in first, then, with `stored`, the prompts stored through `/prompts`.
 */
export async function withManagedPrompt(
  body: Record<string, unknown>, prompts: readonly PromptSpec[] | undefined, beforeFetch?: () => Promise<void>, fetcher: typeof fetch = fetch,
  stored?: StoredPromptLookup,
): Promise<Record<string, unknown>> {
  if (body.prompt_id === undefined || body.prompt_id === null) return body;
  const asked = promptCall(body);
  const found = await namedPrompt(asked, prompts, stored, beforeFetch);
  if (!found) {
    const where = stored ? "config.yaml's prompts nor a stored prompt (/prompts)" : "config.yaml's prompts";
    throw new GatewayError(`prompt_id "${asked.promptId}" is not a prompt of ${where}`, { status: 400, type: 'bad_request_error', param: 'prompt_id' });
  }
  const { spec, call } = found;
  // The caller's own messages may be left out (the prompt's are enough), but not sent as something else.
  const own = body.messages ?? [];
  if (!Array.isArray(own)) throw badRequest('messages: messages must be a list of messages', 'messages');
  const compiled = await compile(spec, call, fetcher, beforeFetch);
  const p = spec.litellm_params;
  return {
    ...body,
    ...(p.ignore_prompt_manager_optional_params ? {} : providerParams(compiled.params)),
    ...(compiled.model && !p.ignore_prompt_manager_model ? { model: compiled.model } : {}),
    messages: [...compiled.messages, ...own],
  };
}

/**
 * Finds a stored prompt by a call's prompt_id and prompt_version (stored.ts), undefined when none is stored so;
 * `confirm` (the key check, as `beforeFetch`) runs before it waits for the database.
 */
export type StoredPromptLookup = (promptId: string, version: string | undefined, confirm: (() => Promise<void>) | undefined) => Promise<StoredPick | undefined>;

/**
 * The prompt a call names and the call as its integration reads it: a stored dotprompt's version, once it has
 * chosen the row, is not asked of the dotprompt again.
 */
async function namedPrompt(
  call: PromptCall, prompts: readonly PromptSpec[] | undefined, stored: StoredPromptLookup | undefined, confirm: (() => Promise<void>) | undefined,
): Promise<{ spec: PromptSpec; call: PromptCall } | undefined> {
  const configured = prompts?.find((p) => p.prompt_id === call.promptId);
  if (configured) return { spec: configured, call };
  const picked = stored && await stored(call.promptId, call.version, confirm);
  if (!picked) return undefined;
  if (!picked.versionTaken) return { spec: picked.spec, call };
  const { version: _taken, ...rest } = call;
  return { spec: picked.spec, call: rest };
}

/**
 * Refuses a body naming a prompt where prompts are not applied (every route but chat completions): the
 * call would otherwise go on without its prompt, or be decided (model access, searches, translation) on
 * what the caller sent before the prompt changed it.
 */
export function refusePromptId(body: Record<string, unknown>, route: string): void {
  if (body.prompt_id === undefined || body.prompt_id === null) return;
  throw badRequest(`prompt_id is not supported on ${route}: managed prompts apply to /v1/chat/completions only`, 'prompt_id');
}

function promptCall(body: Record<string, unknown>): PromptCall {
  const { prompt_id: id, prompt_variables: vars, prompt_version: version, prompt_label: label } = body;
  if (typeof id !== 'string' || !id) throw badRequest('prompt_id must be a non-empty string', 'prompt_id');
  if (vars !== undefined && vars !== null && (typeof vars !== 'object' || Array.isArray(vars))) throw badRequest('prompt_variables must be an object', 'prompt_variables');
  if (version !== undefined && version !== null && typeof version !== 'number' && typeof version !== 'string') throw badRequest('prompt_version must be a number or string', 'prompt_version');
  if (label !== undefined && label !== null && typeof label !== 'string') throw badRequest('prompt_label must be a string', 'prompt_label');
  return {
    promptId: id,
    variables: (vars ?? {}) as Record<string, unknown>,
    ...(version !== undefined && version !== null ? { version: String(version) } : {}),
    ...(typeof label === 'string' ? { label } : {}),
  };
}

/** Fields of a call that steer the gateway, its caller's identity or its credentials, beyond GATEWAY_PARAMS. */
const STEERING = new Set([
  'messages', 'stream', 'stream_options', 'user', 'priority', 'extra_headers', 'extra_body', 'drop_params', 'additional_drop_params',
  'allowed_openai_params', 'input_cost_per_token', 'output_cost_per_token', 'region_name', 'vertex_project', 'vertex_location',
]);
const STEERING_PREFIX = /^(litellm_|mock_|user_api_key|aws_|vertex_credentials)/;

/**
 * A prompt's settings that may go to the provider, as LiteLLM merges only provider optional params: its
 * settings (front matter, or a prompt API's answer) never replace the model (only the prompt's own `model`
 * does, unless ignored), mock the answer, turn logging or caching off, or set the end user, tags,
 * fallbacks, retries, timeouts or credentials.
 */
function providerParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([name]) => !GATEWAY_PARAMS.has(name) && !STEERING.has(name) && !STEERING_PREFIX.test(name)));
}

// Templates parsed once per loaded config entry.
const dotprompts = new WeakMap<PromptSpec, Map<string, DotpromptTemplate> | Error>();

async function compile(spec: PromptSpec, call: PromptCall, fetcher: typeof fetch, beforeFetch: (() => Promise<void>) | undefined): Promise<CompiledPrompt> {
  const integration = spec.litellm_params.prompt_integration;
  if (integration === 'generic_prompt_management') return compileGenericPrompt(spec, call, fetcher, Date.now(), beforeFetch);
  if (integration === 'langfuse') return compileLangfuse(spec, call, fetcher, Date.now(), beforeFetch);
  if (integration !== 'dotprompt') throw unservable(call.promptId, `its prompt_integration "${integration}" is not supported by Tollgate yet`);
  let templates = dotprompts.get(spec);
  if (!templates) {
    try {
      templates = loadDotprompts(spec.prompt_id, spec.litellm_params);
    } catch (err) {
      templates = err as Error;
    }
    dotprompts.set(spec, templates);
  }
  if (templates instanceof Error) throw unservable(call.promptId, `its front matter cannot be read (${templates.message})`);
  const template = pickDotprompt(templates, spec.prompt_id, call.version);
  if (!template) throw unservable(call.promptId, 'it has no dotprompt_content or prompt_data (prompt_directory cannot be read by a Worker)');
  return compileDotprompt(call.promptId, template, call.variables);
}

const unservable = (promptId: string, why: string) => new GatewayError(`prompt "${promptId}" cannot be used: ${why}`, { status: 400, type: 'bad_request_error', param: 'prompt_id' });
