import { GatewayError } from '../errors.ts';
import { withQuery } from './brave.ts';
import { SEARCH_PROVIDER_WIRES } from './providers.ts';
import type { SearchTool } from './schema.ts';
import { base64, type SearchProvider } from './wire.ts';

/** The Worker's bindings, read by name (a provider's key or base URL variable); structural, so Node tests need no Workers types. */
type EnvVars = object;

/**
 * A search tool's credential (its `api_key`, else the provider's variables), Google PSE's engine id, and the
 * provider's request built with them: the credential goes where the provider takes it (a header, or the URL's
 * query for Google PSE and SearchAPI) and is listed among the secrets scrubbed from the provider's error text.
 */

export interface SearchCredential {
  apiKey: string;
  engineId?: string;
  /** Every form the credential could be repeated in (as it is, URL-encoded, Basic-encoded, a password alone). */
  secrets: string[];
}

const missing = (tool: SearchTool, what: string) => new GatewayError(`Search tool ${tool.search_tool_name} has no ${what}`, {
  status: 500, type: 'internal_server_error', param: 'search_tool_name',
});

/** The forms a credential may be echoed in: a provider repeating a URL encodes it, a Basic one is base64. */
function secretsOf(apiKey: string): string[] {
  if (!apiKey) return [];
  const forms = new Set([apiKey, encodeURIComponent(apiKey), base64(apiKey)]);
  // A `login:password` pair: the password alone is secret too.
  const colon = apiKey.indexOf(':');
  if (colon > 0 && colon < apiKey.length - 1) forms.add(apiKey.slice(colon + 1));
  return [...forms].filter((s) => s.length >= 4);
}

/**
 * The tool's credential: its `api_key`, else the provider's usual variable (or DataForSEO's login and password);
 * a 500 naming where to set it when none is, unless the provider takes none (SearXNG). Google PSE also needs its
 * engine id (`search_engine_id`, else GOOGLE_PSE_ENGINE_ID).
 */
export function searchCredential(env: EnvVars, tool: SearchTool): SearchCredential {
  const provider = SEARCH_PROVIDER_WIRES[tool.litellm_params.search_provider];
  const bindings = env as unknown as Record<string, unknown>;
  const fromVars = (names: readonly string[]) => names.map((name) => bindings[name]).find((v): v is string => typeof v === 'string' && v !== '');
  const configured = tool.litellm_params.api_key;
  // DataForSEO's api_key is a `login:password` pair: one without ':' is passed over for its variables, as LiteLLM does.
  const usable = configured !== undefined && (!provider.pairKey || configured.includes(':')) ? configured : undefined;
  const apiKey = usable ?? fromVars(provider.keyVars) ?? provider.keyFrom?.(bindings) ?? '';
  if (!apiKey && !provider.keyOptional) {
    const vars = [provider.keyVars.join(' or '), provider.keyFromVars?.join(' and ')].filter(Boolean).join(', or ');
    throw missing(tool, `credential: set its litellm_params.api_key${provider.pairKey ? ' as login:password' : ''} (or ${vars})`);
  }
  let engineId: string | undefined;
  if (provider.engineIdVars) {
    engineId = tool.litellm_params.search_engine_id ?? fromVars(provider.engineIdVars);
    if (!engineId) throw missing(tool, `search engine id: set its litellm_params.search_engine_id (or ${provider.engineIdVars.join(' or ')})`);
  }
  return { apiKey, ...(engineId ? { engineId } : {}), secrets: secretsOf(apiKey) };
}

const parses = (url: string) => {
  try {
    return Boolean(new URL(url));
  } catch {
    return false;
  }
};

/**
 * The base URL a tool's searches go to: its `api_base`, else the provider's `<PROVIDER>_API_BASE` variable (as
 * LiteLLM reads it), else the provider's public API; a 500 naming both when there is none (a SearXNG instance is
 * the operator's own) or the variable is not an http(s) URL.
 */
export function searchBase(env: EnvVars, tool: SearchTool): string {
  const provider = SEARCH_PROVIDER_WIRES[tool.litellm_params.search_provider];
  if (tool.litellm_params.api_base) return tool.litellm_params.api_base;
  const fromVar = provider.baseVar ? (env as unknown as Record<string, unknown>)[provider.baseVar] : undefined;
  if (typeof fromVar === 'string' && fromVar !== '') {
    if (!/^https?:\/\//i.test(fromVar) || !parses(fromVar)) throw missing(tool, `usable base URL: ${provider.baseVar} is not an http(s) URL`);
    return fromVar;
  }
  if (!provider.defaultBase) throw missing(tool, `api_base: set its litellm_params.api_base (or ${provider.baseVar})`);
  return provider.defaultBase;
}

export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

/** The provider's request for what `body` built: a GET's fields (and a credential it takes there) as the URL's query. */
export function providerRequest(wire: SearchProvider, url: string, fields: Record<string, unknown>, credential: SearchCredential): ProviderRequest {
  const headers = credential.apiKey ? wire.authHeaders(credential.apiKey) : {};
  const inQuery = wire.authQuery?.(credential.apiKey, credential.engineId) ?? {};
  if (wire.method === 'GET') return { method: 'GET', url: withQuery(url, { ...fields, ...inQuery }), headers };
  return { method: 'POST', url: Object.keys(inQuery).length ? withQuery(url, inQuery) : url, body: wire.wireBody ? wire.wireBody(fields) : fields, headers };
}
