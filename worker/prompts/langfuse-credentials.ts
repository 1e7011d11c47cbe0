/**
 * A `langfuse` prompt's host and keys, settled once when the config loads: its own `langfuse_public_key`,
 * `langfuse_secret` (LiteLLM's name) or `langfuse_secret_key`, and `langfuse_host`, each missing one taken
 * from LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY / LANGFUSE_HOST as LiteLLM's `langfuse_client_init` falls
 * back. As for the Langfuse logger's key and team settings, the environment's keys go only to the
 * environment's host (telemetry/langfuse/host.ts; LiteLLM likewise drops them once a prompt names a host): a
 * prompt naming another host needs keys of its own. Its timeout falls back to LANGFUSE_TIMEOUT, then to the
 * Langfuse Python SDK's 20 seconds for a prompt fetch.
 */
import { DEFAULT_LANGFUSE_HOST, langfuseOrigin, normaliseLangfuseHost, takesEnvKeys } from '../telemetry/langfuse/host.ts';
import type { PromptSpec } from './schema.ts';

/** The Langfuse Python SDK's prompt fetch timeout, in seconds, when LANGFUSE_TIMEOUT is unset. */
export const LANGFUSE_TIMEOUT_S = 20;

const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Each `langfuse` prompt with its settled host, keys and timeout; the others as they are. */
export function withLangfuseCredentials(prompts: PromptSpec[], env: Record<string, unknown>): PromptSpec[] {
  return prompts.map((spec) => (spec.litellm_params.prompt_integration === 'langfuse' ? settled(spec, env) : spec));
}

function settled(spec: PromptSpec, env: Record<string, unknown>): PromptSpec {
  const p = spec.litellm_params;
  const envHost = text(env.LANGFUSE_HOST) ?? DEFAULT_LANGFUSE_HOST;
  const host = text(p.langfuse_host) ?? envHost;
  const envKeys = takesEnvKeys(host, envHost);
  const publicKey = text(p.langfuse_public_key) ?? (envKeys ? text(env.LANGFUSE_PUBLIC_KEY) : undefined);
  const secretKey = text(p.langfuse_secret) ?? text(p.langfuse_secret_key) ?? (envKeys ? text(env.LANGFUSE_SECRET_KEY) : undefined);
  // A LANGFUSE_TIMEOUT that is not a number of seconds above 0 (`0`, `abc`, `Infinity`) is not one.
  const envTimeout = Number(text(env.LANGFUSE_TIMEOUT));
  const params = { ...p, timeout: p.timeout ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : LANGFUSE_TIMEOUT_S) };
  // One field each from here on: what is unset stays unset, and calls naming the prompt are refused.
  delete params.langfuse_secret;
  delete params.langfuse_host;
  delete params.langfuse_public_key;
  delete params.langfuse_secret_key;
  if (langfuseOrigin(host)) params.langfuse_host = normaliseLangfuseHost(host);
  if (publicKey) params.langfuse_public_key = publicKey;
  if (secretKey) params.langfuse_secret_key = secretKey;
  return { ...spec, litellm_params: params };
}
