/**
 * LiteLLM's `websearch_interception` callback (`litellm_settings.callbacks: ["websearch_interception"]`, tuned by
 * `litellm_settings.websearch_interception_params`): the gateway answers a model's `litellm_web_search` tool
 * calls itself, with a configured search tool, and returns the model's final answer as one call.
 */
import type { TollgateConfig } from '../config/schema.ts';

/** LiteLLM's callback name. */
export const WEBSEARCH_CALLBACK = 'websearch_interception';

/** LiteLLM's default ceiling on follow-up model calls of one intercepted request (`max_agentic_loops`). */
export const DEFAULT_MAX_LOOPS = 3;

/** LiteLLM's providers without `enabled_providers`: Bedrock only (its models cannot search themselves). */
export const DEFAULT_PROVIDERS: readonly string[] = ['bedrock'];

type Lists = { callbacks?: unknown; success_callback?: unknown };
const listed = (list: unknown) => Array.isArray(list) && list.includes(WEBSEARCH_CALLBACK);

/** Whether a config turns the callback on (LiteLLM reads it from `callbacks`; `success_callback` is accepted too). */
export const interceptionOn = (settings: Lists | undefined) => listed(settings?.callbacks) || listed(settings?.success_callback);

export interface InterceptionSettings {
  /** The search tool (config.yaml `search_tools`) the searches run on. */
  tool: string;
  /** Providers (a deployment's provider id) whose answers are intercepted (unset: LiteLLM's `["bedrock"]`). */
  providers: ReadonlySet<string>;
  maxLoops: number;
}

const memo = new WeakMap<TollgateConfig, InterceptionSettings | null>();

/**
 * The callback's settings for this config, or null when it is off, has no search tool to run on, or enables no
 * provider (`enabled_providers: []`, as in LiteLLM): then calls go through untouched, as a model's tool call is
 * the client's to answer. The tool is `websearch_interception_params.search_tool_name`, else the first of
 * `search_tools`, as in LiteLLM; the providers `enabled_providers`, else LiteLLM's default `["bedrock"]`.
 */
export function interceptionSettings(config: TollgateConfig): InterceptionSettings | null {
  const known = memo.get(config);
  if (known !== undefined) return known;
  const l = config.litellm_settings;
  const params = l.websearch_interception_params;
  const tool = params?.search_tool_name ?? config.search_tools?.[0]?.search_tool_name;
  const found = tool !== undefined && config.search_tools?.some((t) => t.search_tool_name === tool);
  const providers = new Set(params?.enabled_providers ?? DEFAULT_PROVIDERS);
  const settings = interceptionOn(l) && found && providers.size ? {
    tool, providers, maxLoops: params?.max_agentic_loops ?? DEFAULT_MAX_LOOPS,
  } : null;
  memo.set(config, settings);
  return settings;
}

/** What config.yaml gets wrong about the callback: nothing to search with, or a search tool it does not define. */
export function interceptionWarnings(config: TollgateConfig): string[] {
  if (!interceptionOn(config.litellm_settings)) return [];
  const name = config.litellm_settings.websearch_interception_params?.search_tool_name;
  if (name !== undefined && !config.search_tools?.some((t) => t.search_tool_name === name)) {
    return [`litellm_settings.websearch_interception_params.search_tool_name: "${name}" is not one of search_tools (web search interception is off until it is)`];
  }
  if (!config.search_tools?.length) return ['litellm_settings.callbacks: "websearch_interception" needs a search tool: add one to search_tools (interception is off until then)'];
  const providers = config.litellm_settings.websearch_interception_params?.enabled_providers;
  if (providers && !providers.length) return ['litellm_settings.websearch_interception_params.enabled_providers: [] enables no provider (interception is off; leave it unset for LiteLLM\'s default ["bedrock"])'];
  return [];
}
