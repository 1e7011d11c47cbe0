import type { ProviderId } from '../config/providers.ts';

/**
 * A provider whose own API the gateway passes through (LiteLLM's provider pass-through routes): the
 * client calls `/{prefix}/{the provider's path}` in the provider's own format, with its virtual key; the
 * gateway calls the provider with the provider's credential.
 */
export interface PassThroughProvider {
  /** For spend logs and prices, and which deployments' credentials serve it. */
  provider: ProviderId;
  /** Deployments of these providers lend their credentials. */
  deploymentsOf: readonly ProviderId[];
  name: string;
  /** Environment variables of the credential and the base URL, first set wins (LiteLLM's names). */
  keyEnv: readonly string[];
  baseEnv: readonly string[];
  defaultBase?: string;
  /** The header the credential goes in upstream; `bearer` is `Authorization: Bearer`. */
  auth: 'x-api-key' | 'bearer' | 'api-key' | 'x-goog-api-key' | 'google-oauth' | 'aws-sigv4';
  /** Whether a call needs a credential (a self-hosted vLLM may have none). */
  keyRequired: boolean;
  /** Where the request names its model: the JSON body's `model`, or a path segment (`models/{m}:...`, `deployments/{m}/...`, Bedrock's `model/{m}/...`). */
  modelIn: 'body' | 'models-path' | 'deployments-path' | 'model-path';
  /** OpenAI's paths are below `/v1`; a client that leaves it out (base URL `.../openai`) gets it added. */
  versionPrefix?: string;
}

const PROVIDERS: Record<string, PassThroughProvider> = {
  anthropic: {
    provider: 'anthropic', deploymentsOf: ['anthropic'], name: 'Anthropic', keyEnv: ['ANTHROPIC_API_KEY'], baseEnv: ['ANTHROPIC_API_BASE'],
    defaultBase: 'https://api.anthropic.com', auth: 'x-api-key', keyRequired: true, modelIn: 'body',
  },
  openai: {
    provider: 'openai', deploymentsOf: ['openai'], name: 'OpenAI', keyEnv: ['OPENAI_API_KEY'], baseEnv: ['OPENAI_API_BASE'],
    defaultBase: 'https://api.openai.com', auth: 'bearer', keyRequired: true, modelIn: 'body', versionPrefix: 'v1',
  },
  azure: {
    provider: 'azure', deploymentsOf: ['azure'], name: 'Azure OpenAI', keyEnv: ['AZURE_API_KEY'], baseEnv: ['AZURE_API_BASE'],
    auth: 'api-key', keyRequired: true, modelIn: 'deployments-path',
  },
  vllm: {
    provider: 'hosted_vllm', deploymentsOf: ['hosted_vllm', 'vllm'], name: 'vLLM', keyEnv: ['VLLM_API_KEY', 'HOSTED_VLLM_API_KEY'],
    baseEnv: ['VLLM_API_BASE', 'HOSTED_VLLM_API_BASE'], auth: 'bearer', keyRequired: false, modelIn: 'body',
  },
  gemini: {
    provider: 'gemini', deploymentsOf: ['gemini'], name: 'Google AI Studio', keyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], baseEnv: ['GEMINI_API_BASE'],
    // The key goes in a header, not `?key=`: a URL ends up in logs.
    defaultBase: 'https://generativelanguage.googleapis.com', auth: 'x-goog-api-key', keyRequired: true, modelIn: 'models-path',
  },
  cohere: {
    provider: 'cohere', deploymentsOf: ['cohere'], name: 'Cohere', keyEnv: ['COHERE_API_KEY'], baseEnv: ['COHERE_API_BASE'],
    defaultBase: 'https://api.cohere.com', auth: 'bearer', keyRequired: true, modelIn: 'body',
  },
  vertex_ai: {
    // An access token of the service account (vertex_credentials, else VERTEXAI_CREDENTIALS), for the location the path names.
    provider: 'vertex_ai', deploymentsOf: ['vertex_ai'], name: 'Vertex AI', keyEnv: ['VERTEXAI_CREDENTIALS'], baseEnv: [],
    auth: 'google-oauth', keyRequired: true, modelIn: 'models-path',
  },
  bedrock: {
    // SigV4 with the deployment's AWS credentials (else AWS_ACCESS_KEY_ID...), or a Bedrock API key; the runtime host of its region.
    provider: 'bedrock', deploymentsOf: ['bedrock'], name: 'Bedrock', keyEnv: ['AWS_ACCESS_KEY_ID'], baseEnv: [],
    auth: 'aws-sigv4', keyRequired: true, modelIn: 'model-path',
  },
  mistral: {
    provider: 'mistral', deploymentsOf: ['mistral'], name: 'Mistral', keyEnv: ['MISTRAL_API_KEY'], baseEnv: ['MISTRAL_API_BASE'],
    defaultBase: 'https://api.mistral.ai', auth: 'bearer', keyRequired: true, modelIn: 'body',
  },
};

/** The gateway's path prefixes of the providers' APIs (`/openai_passthrough` is LiteLLM's name clear of its own `/openai/...` routes). */
export const PASS_THROUGH_PREFIXES: Record<string, PassThroughProvider> = {
  '/anthropic': PROVIDERS.anthropic!,
  '/openai': PROVIDERS.openai!,
  '/openai_passthrough': PROVIDERS.openai!,
  '/azure': PROVIDERS.azure!,
  '/vllm': PROVIDERS.vllm!,
  '/gemini': PROVIDERS.gemini!,
  '/cohere': PROVIDERS.cohere!,
  '/mistral': PROVIDERS.mistral!,
  '/vertex_ai': PROVIDERS.vertex_ai!,
  '/vertex-ai': PROVIDERS.vertex_ai!,
  '/bedrock': PROVIDERS.bedrock!,
};

/** The segment before the one that names the model, where a provider's path names it. */
const MODEL_MARKER = { 'models-path': 'models', 'deployments-path': 'deployments', 'model-path': 'model' } as const;

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** Where the path's model is: the index of its segment, and (Google's `{model}:{method}`) the method after it. */
function modelSegment(p: PassThroughProvider, segments: readonly string[]): { index: number; model: string; method: string } | undefined {
  if (p.modelIn === 'body') return undefined;
  const marker = MODEL_MARKER[p.modelIn];
  const index = segments.findIndex((_, i) => i > 0 && decoded(segments[i - 1]!) === marker);
  if (index < 0) return undefined;
  const text = decoded(segments[index]!);
  const colon = p.modelIn === 'models-path' ? text.indexOf(':') : -1;
  return colon >= 0 ? { index, model: text.slice(0, colon), method: text.slice(colon) } : { index, model: text, method: '' };
}

/** The model a request names, where this provider's API names it (the path's segments as the client sent them). */
export function requestedModel(p: PassThroughProvider, segments: readonly string[], body: Record<string, unknown> | undefined): string | undefined {
  if (modelInBody(p, segments)) return typeof body?.model === 'string' && body.model ? body.model : undefined;
  return modelSegment(p, segments)?.model || undefined;
}

/**
 * Whether the request names its model in the body's `model`: a provider that always does, or Google's
 * Interactions API (`.../interactions`, whose create takes `model` in its body where Gemini's other calls
 * name it in the path), so a group's name is read and replaced there.
 */
export function modelInBody(p: PassThroughProvider, segments: readonly string[]): boolean {
  return p.modelIn === 'body' || (p.modelIn === 'models-path' && segments.length > 0 && decoded(segments[segments.length - 1]!) === 'interactions');
}

/** The path's segments with the model it names replaced (a model group's name by its deployment's model). */
export function withModelInPath(p: PassThroughProvider, segments: readonly string[], model: string): string[] {
  const found = modelSegment(p, segments);
  if (!found) return [...segments];
  const out = [...segments];
  out[found.index] = `${encodeURIComponent(model)}${found.method}`;
  return out;
}
