import type { Context } from 'hono';
import { type Caller, identify } from '../auth/authenticate.ts';
import type { ProviderId } from '../config/providers.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { authorizeModel, mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, type ModelCatalog, pickDeployment } from '../models/deployments.ts';
import { bodyLimit, readBoundedBytes } from '../openai/read-body.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { displayBase } from '../providers/upstream-url.ts';
import { accessTokens } from '../providers/vertex_ai/index.ts';
import { DEFAULT_VERTEX_LOCATION, VERTEX_LABEL, vertexTarget } from '../providers/vertex_ai/target.ts';
import { authHeaders, bedrockAuth, type BedrockAuth } from '../providers/bedrock/auth.ts';
import { bedrockBase, bedrockModelId } from '../providers/bedrock/index.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { forwardedHeaders, passThroughUrl, pathSegments, readablePath } from '../passthrough/forward.ts';
import { passThroughCall } from '../passthrough/pass-through-call.ts';
import { PASS_THROUGH_PREFIXES, type PassThroughProvider, requestedModel, withModelInPath } from '../passthrough/providers.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;
type ConfigEndpoint = NonNullable<TollgateConfig['general_settings']['pass_through_endpoints']>[number];

const DEFAULT_TIMEOUT_S = 600;
// What a call to the provider makes (as opposed to a list, a file, a status): its reservation holds output tokens.
const GENERATIVE = /(?:\/(?:messages|chat\/completions|completions|responses|chat|converse|converse-stream|invoke|invoke-with-response-stream)|:(?:generateContent|streamGenerateContent|rawPredict|streamRawPredict))$/;
/**
 * The paths that run a model, whose answers' usage is billed (a POST): the generating ones, embeddings and
 * rerank. Not their neighbours: a stored response read back, a message batch, a token count.
 */
const BILLED = /(?:\/(?:messages|chat\/completions|completions|responses|chat|embeddings|embed|rerank|converse|converse-stream|invoke|invoke-with-response-stream)|:(?:generateContent|streamGenerateContent|embedContent|batchEmbedContents|predict|rawPredict|streamRawPredict))$/;

/**
 * `/{provider}/...` (LiteLLM's provider pass-through routes): the provider's own API, any method and path,
 * in its own format. The credential is that of the deployment the request's model names (a model group
 * of this provider, whose model then replaces the group's name, or a deployment of that model), else of a
 * deployment marked `use_in_pass_through`, else the provider's environment variables (LiteLLM's names).
 * A key restricted to some models may only call those (by group or by the model a group serves).
 */
export function providerPassThrough(prefix: string) {
  const provider = PASS_THROUGH_PREFIXES[prefix]!;
  const rules = { encodedSlashAfter: provider.modelIn === 'model-path' ? 'model' : undefined };
  return async function passThroughRoute(c: Ctx): Promise<Response> {
    const seen: Seen = {};
    try {
      const state = await gatewayState(c.env);
      const url = new URL(c.req.url);
      // A bad path is the client's mistake, refused before anything else. Decisions read the decoded path.
      let segments = pathSegments(url.pathname.slice(prefix.length), rules);
      const readable = readablePath(segments);
      let headers = headerSnapshot(c.req.raw.headers);
      // Google's SDKs put the key in `?key=`: it is the gateway's key, never sent on; `userProject` picks who pays.
      const query = [...url.searchParams].filter(([name]) => !(provider.auth === 'x-goog-api-key' || provider.auth === 'google-oauth') || (name !== 'key' && name !== 'userProject'));
      if (prefix === '/gemini') headers = withQueryKey(headers, url.searchParams.get('key'));
      // Who is calling, before anything is read for them.
      const who = await identify(headers, state.masterKeyHash, state.keyHeader);
      const client = await readBody(c.req.raw, state);
      const requested = requestedModel(provider, segments, client.json);
      const catalog = await currentCatalog(state, c.env, c.executionCtx, requested ? { missing: requested } : {});
      const lent = lender(provider, catalog, requested);
      const lentModel = lent ? providerModel(lent.deployment) : undefined;
      const byGroup = lent?.kind === 'group' && lentModel !== requested;
      let bytes = client.bytes;
      if (client.json && (byGroup || 'litellm_metadata' in client.json)) {
        // LiteLLM's own field is not the provider's; a group's name becomes its deployment's model.
        const { litellm_metadata: _ours, ...rest } = client.json;
        if (byGroup && provider.modelIn === 'body') rest.model = lentModel;
        bytes = new TextEncoder().encode(JSON.stringify(rest));
      }
      if (byGroup && provider.modelIn !== 'body') segments = withModelInPath(provider, segments, lentModel!);
      const subpath = `/${segments.join('/')}`;
      // A deployment lent only for its credential does not set the price: the model asked for (or answered) does.
      const named = lent && lent.kind !== 'lent' ? lent.deployment : undefined;
      const deployment = named ?? unconfigured(provider.provider, requested);
      const credentials = lent?.deployment ?? deployment;
      const target = provider.auth === 'google-oauth' ? vertexBase(credentials, c.env, readable)
        : provider.auth === 'aws-sigv4' ? bedrockCredential(credentials, c.env) : credentialOf(provider, lent?.deployment, c.env);
      const outbound = forwardedHeaders(c.req.raw.headers, { all: true, keyHeaders: [state.keyHeader] });
      setCredential(outbound, provider, target.key);
      if (provider.provider === 'openai' && lent?.deployment.params.organization) outbound.set('openai-organization', lent.deployment.params.organization);
      const billed = c.req.method === 'POST' && BILLED.test(readable);
      return await passThroughCall(c, state, {
        headers, keyHeaders: [state.keyHeader], who, group: named?.group ?? requested ?? '', json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
        billed, generative: billed && GENERATIVE.test(readable), deployment, priceByAnswer: !named, requested,
        authorize: (caller) => authorizePassThrough(caller, requested, named, catalog, readable),
        send: async (signal) => {
          if (target.missing) throw target.missing;
          if (provider.auth === 'google-oauth') {
            const vertex = vertexTarget(credentials, c.env);
            const project = /(?:^|\/)projects\/([^/]+)\//.exec(readable)?.[1];
            // The service account may reach other projects; the path may not pick one (who pays is the operator's choice).
            if (project && project !== vertex.project) throw badRequest('The path names a Google Cloud project other than the one the gateway\'s Vertex AI credentials are for');
            outbound.set('authorization', `Bearer ${await accessTokens.token(vertex.account, VERTEX_LABEL, 'vertex_ai')}`);
          }
          const upstream = passThroughUrl(target.base!, subpath, query, { versionPrefix: provider.versionPrefix, dedupe: true, ...rules });
          return fetch(upstream, { method: c.req.method, headers: target.aws ? await signed(target.aws, upstream, bytes, outbound, c.req.method) : outbound, ...(bytes ? { body: bytes } : {}), signal });
        },
        apiBase: target.base ? safeBase(target.base) : '',
        timeoutMs: (state.config.general_settings.pass_through_request_timeout ?? state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000,
      }, seen);
    } catch (err) {
      if (err instanceof GatewayError) recordRefusedCall(c, 'pass_through', seen, err);
      throw err;
    }
  };
}

/** A deployment's model as its provider's API names it (Bedrock's without LiteLLM's route prefixes such as `converse/`). */
function providerModel(d: DeploymentRef): string {
  return d.provider === 'bedrock' ? bedrockModelId(d.model) : d.model;
}

/**
 * Bedrock's request, signed: SigV4 covers the headers that say what the request is (`content-type`, `accept`,
 * Bedrock's own `x-amzn-bedrock-*`); the client's others ride along unsigned, so a hop that rewrites one
 * does not break the signature.
 */
async function signed(aws: BedrockAuth, url: URL, body: Uint8Array | undefined, outbound: Headers, method: string): Promise<Headers> {
  const covered: Record<string, string> = {};
  const rest: [string, string][] = [];
  outbound.forEach((value, name) => (name === 'content-type' || name === 'accept' || name.startsWith('x-amzn-bedrock-') ? (covered[name] = value) : rest.push([name, value])));
  const out = new Headers(await authHeaders(aws, url, body, covered, method));
  for (const [name, value] of rest) if (!out.has(name)) out.set(name, value);
  return out;
}

/**
 * A `general_settings.pass_through_endpoints` entry matching the request (its path, or below it with
 * `include_subpath`; its `methods`): the request goes to its target with its headers. Undefined when none matches.
 */
export async function configPassThrough(c: Ctx): Promise<Response | undefined> {
  const state = await gatewayState(c.env);
  const endpoints = state.config.general_settings.pass_through_endpoints;
  if (!endpoints?.length) return undefined;
  const url = new URL(c.req.url);
  const endpoint = endpoints.find((e) => {
    const path = e.path.replace(/\/+$/, '') || '/';
    const matches = url.pathname === path || url.pathname === `${path}/` || (e.include_subpath === true && url.pathname.startsWith(path === '/' ? '/' : `${path}/`));
    return matches && (!e.methods || e.methods.includes(c.req.method as 'GET'));
  });
  if (!endpoint) return undefined;
  const seen: Seen = {};
  try {
    return await configCall(c, state, endpoint, url, seen);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'pass_through', seen, err);
    throw err;
  }
}

async function configCall(c: Ctx, state: GatewayState, endpoint: ConfigEndpoint, url: URL, seen: Seen): Promise<Response> {
  const base = endpoint.path.replace(/\/+$/, '');
  const subpath = url.pathname.slice(base.length);
  pathSegments(subpath);
  const configured = Object.entries(endpoint.headers ?? {});
  // LiteLLM's `litellm_user_api_key: <header>` names a header the client's key comes in; it is not sent on.
  const keyIn = configured.find(([name]) => name === 'litellm_user_api_key')?.[1]?.toLowerCase();
  const headers = headerSnapshot(c.req.raw.headers);
  const who = endpoint.auth !== false ? await identify(headers, state.masterKeyHash, keyIn ?? state.keyHeader) : undefined;
  const client = await readBody(c.req.raw, state);
  const keyHeaders = [keyIn, state.keyHeader];
  const outbound = forwardedHeaders(c.req.raw.headers, { all: endpoint.forward_headers === true, keyHeaders });
  for (const [name, value] of configured) if (name !== 'litellm_user_api_key') outbound.set(name, withEnvRefs(value, c.env));
  const target = new URL(endpoint.target);
  const targetQuery = [...target.searchParams];
  const clientQuery = [...url.searchParams];
  const owned = new Set((endpoint.merge_query_params ? clientQuery : targetQuery).map(([name]) => name));
  const query = endpoint.merge_query_params
    ? [...targetQuery.filter(([name]) => !owned.has(name)), ...clientQuery]
    : [...targetQuery, ...clientQuery.filter(([name]) => !owned.has(name))];
  target.search = '';
  const deployment: DeploymentRef = { id: '', group: endpoint.path, provider: '' as ProviderId, model: endpoint.path, params: { model: endpoint.path }, info: {} };
  return passThroughCall(c, state, {
    headers, keyHeaders, who, group: endpoint.path, json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
    billed: false, generative: false, deployment, priceByAnswer: false, costPerRequest: endpoint.cost_per_request ?? 0,
    authorize: () => undefined,
    send: (signal) => fetch(passThroughUrl(target.href, subpath, query), { method: c.req.method, headers: outbound, ...(client.bytes ? { body: client.bytes } : {}), signal }),
    apiBase: safeBase(target.href),
    timeoutMs: (endpoint.timeout ?? state.config.general_settings.pass_through_request_timeout ?? DEFAULT_TIMEOUT_S) * 1000,
  }, seen);
}

/** The request's body, bounded by `max_request_size_mb`, and its JSON when it is a JSON object. */
async function readBody(request: Request, state: GatewayState): Promise<{ bytes: Uint8Array | undefined; json: Record<string, unknown> | undefined }> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return { bytes: undefined, json: undefined };
  const bytes = await readBoundedBytes(request, bodyLimit(state.config).maxBytes ?? 20 * 1024 * 1024);
  if (!/^application\/(.+\+)?json/i.test(request.headers.get('content-type') ?? '')) return { bytes, json: undefined };
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return { bytes, json: json && typeof json === 'object' && !Array.isArray(json) ? json as Record<string, unknown> : undefined };
  } catch {
    // The provider judges its own body: passed on as it came.
    return { bytes, json: undefined };
  }
}

/**
 * The deployment whose credential serves the call: the one the request names by its group (`group`) or
 * its model (`model`), else one marked `use_in_pass_through`, lent for its credential alone (`lent`).
 */
function lender(p: PassThroughProvider, catalog: ModelCatalog, requested: string | undefined): { deployment: DeploymentRef; kind: 'group' | 'model' | 'lent' } | undefined {
  const own = (d: DeploymentRef) => p.deploymentsOf.includes(d.provider);
  if (requested) {
    const group = catalog.groups.get(requested)?.filter(own);
    const picked = group?.length ? pickDeployment(group) : undefined;
    if (picked) return { deployment: picked, kind: 'group' };
  }
  const all = [...catalog.groups.values()].flat().filter(own);
  const served = requested ? all.find((d) => providerModel(d) === requested) : undefined;
  if (served) return { deployment: served, kind: 'model' };
  const lent = all.find((d) => d.params.use_in_pass_through === true);
  return lent ? { deployment: lent, kind: 'lent' } : undefined;
}

/** A model no deployment names: priced from the price table by its name. */
function unconfigured(provider: ProviderId, model: string | undefined): DeploymentRef {
  return { id: '', group: model ?? '', provider, model: model ?? '', params: { model: `${provider}/${model ?? ''}` }, info: {} };
}

/**
 * Vertex AI's host: the deployment's `api_base`, else the regional host of the location the path names
 * (`.../locations/{location}/...`; one of Google's names, so the host stays Google's), else the deployment's.
 */
function vertexBase(deployment: DeploymentRef, env: Record<string, unknown>, subpath: string): Credential {
  if (deployment.params.api_base) return { base: deployment.params.api_base };
  const named = /(?:^|\/)locations\/([a-z0-9-]+)(?:\/|$)/.exec(subpath)?.[1];
  const location = named ?? deployment.params.vertex_location ?? envString(env, 'VERTEXAI_LOCATION') ?? DEFAULT_VERTEX_LOCATION;
  if (!/^[a-z0-9-]+$/.test(location)) return { missing: new GatewayError(`"${location}" is not a Vertex AI location`, { status: 500, type: 'internal_server_error' }) };
  return { base: location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com` };
}

/** Where the call goes and with what credential: the deployment's, else the environment's; `missing` says what is not set. */
interface Credential {
  base?: string;
  key?: string;
  /** Bedrock's: the request is signed (or carries its API key) when sent. */
  aws?: BedrockAuth;
  missing?: GatewayError;
}

/** Bedrock's credentials (the deployment's, else the environment's, as its calls read them) and its runtime host: `api_base`, else its region's. */
function bedrockCredential(deployment: DeploymentRef, env: Record<string, unknown>): Credential {
  try {
    const aws = bedrockAuth(deployment, env);
    return { base: bedrockBase(deployment, aws.region), aws };
  } catch (err) {
    return { missing: err instanceof GatewayError ? err : new GatewayError('Bedrock credentials unreadable', { status: 500, type: 'internal_server_error' }) };
  }
}

function credentialOf(p: PassThroughProvider, deployment: DeploymentRef | undefined, env: Record<string, unknown>): Credential {
  const fromEnv = (names: readonly string[]) => names.map((n) => envString(env, n)).find(Boolean);
  const base = deployment?.params.api_base ?? fromEnv(p.baseEnv) ?? p.defaultBase;
  const key = deployment?.params.api_key ?? fromEnv(p.keyEnv);
  const needs = (names: readonly string[]) => new GatewayError(
    `Required '${names[0]}' in environment to make pass-through calls to ${p.name} (or a deployment of it in config.yaml with use_in_pass_through: true).`,
    { status: 500, type: 'internal_server_error' },
  );
  if (!base) return { missing: needs(p.baseEnv) };
  if (!key && p.keyRequired) return { base, missing: needs(p.keyEnv) };
  return { base, ...(key ? { key } : {}) };
}

function setCredential(headers: Headers, p: PassThroughProvider, key: string | undefined): void {
  if (!key || p.auth === 'google-oauth' || p.auth === 'aws-sigv4') return;
  if (p.auth === 'bearer') headers.set('authorization', `Bearer ${key}`);
  else headers.set(p.auth, key);
  if (p.provider === 'anthropic' && !headers.has('anthropic-version')) headers.set('anthropic-version', '2023-06-01');
}

// Paths that hand out a provider credential (ephemeral keys for the browser): a client holding one calls the provider directly, past every limit.
const MINTS_CREDENTIALS = /\/realtime\/(?:client_secrets|sessions|transcription_sessions)$|\/auth_tokens$/;

/**
 * A key held to some models calls only those: the model the request names, by its group when a deployment
 * of its provider serves it (`named`: the group the request named, or the group of the deployment of that
 * model; never one lent for its credential alone), else by its own name. A request naming no model (a list,
 * a file) is for keys held to none. No key but the master key mints provider credentials.
 */
function authorizePassThrough(caller: Caller, requested: string | undefined, named: DeploymentRef | undefined, catalog: ModelCatalog, path: string): void {
  if (caller.kind === 'master') return;
  if (MINTS_CREDENTIALS.test(path)) {
    throw new GatewayError('This path hands out a provider credential, which would escape the key\'s limits: only the master key may call it', { status: 403, type: 'auth_error' });
  }
  const subject = named ? named.group : requested;
  if (subject !== undefined ? mayCall(caller, subject, catalog) : mayCall(caller, '', catalog)) return;
  authorizeModel(caller, subject ?? '(a pass-through request that names no model)', catalog);
  throw new GatewayError('key not allowed to access model', { status: 401, type: 'key_model_access_denied', param: 'model' });
}

/** The request's headers with Google's `?key=` as the key when no header carries one. */
function withQueryKey(headers: RequestHeaders, key: string | null): RequestHeaders {
  if (!key || headers.get('x-goog-api-key') || headers.get('authorization') || headers.get('x-litellm-api-key') || headers.get('x-api-key')) return headers;
  return { get: (name) => (name.toLowerCase() === 'x-goog-api-key' ? key : headers.get(name)), forEach: headers.forEach };
}

/** `os.environ/NAME` anywhere in a header value (`Bearer os.environ/COHERE_API_KEY`), replaced by the variable. */
function withEnvRefs(value: string, env: Record<string, unknown>): string {
  return value.replace(/os\.environ\/([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => envString(env, name) ?? '');
}

function safeBase(base: string): string {
  try {
    return displayBase(new URL(base));
  } catch {
    return '';
  }
}
