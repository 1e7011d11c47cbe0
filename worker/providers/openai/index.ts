import type { DeploymentRef } from '../../models/deployments.ts';
import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, envString, openAICompatible, type UpstreamTarget } from '../openai-compatible/adapter.ts';
import { OPENAI_PARAMS } from '../openai-compatible/params.ts';
import { upstreamUrl } from '../upstream-url.ts';

export const OPENAI_API_BASE = 'https://api.openai.com/v1';

/** `openai/<model>` (and bare OpenAI names): Bearer auth, `api_base` defaults to OpenAI's. */
export const openaiFlavor: OpenAICompatibleFlavor = {
  id: 'openai',
  label: 'OpenAI',
  endpoints: ['chat', 'completion', 'embedding', 'responses', 'moderation', 'image_generation', 'speech', 'transcription', 'image_edit'],
  supported: OPENAI_PARAMS,
  target: (deployment, endpoint, env) => openaiTarget(deployment, ENDPOINT_PATHS[endpoint], env),
  objectTarget: openaiTarget,
};

function openaiTarget(deployment: DeploymentRef, path: string, env: Record<string, unknown>): UpstreamTarget {
  const key = deployment.params.api_key ?? envString(env, 'OPENAI_API_KEY');
  const base = deployment.params.api_base ?? envString(env, 'OPENAI_API_BASE') ?? OPENAI_API_BASE;
  const headers: Record<string, string> = { ...deployment.params.extra_headers };
  if (key) headers.authorization = `Bearer ${key}`;
  if (deployment.params.organization) headers['openai-organization'] = deployment.params.organization;
  return { url: upstreamUrl(base, path), headers, secret: key };
}

export const openai = openAICompatible(openaiFlavor);
export const textCompletionOpenai = openAICompatible({ ...openaiFlavor, id: 'text-completion-openai' });
