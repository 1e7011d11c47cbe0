import type { Context } from 'hono';
import { requireProxyAdminKey } from '../auth/admin-only-routes.ts';
import { identify } from '../auth/authenticate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { standInDeployment } from '../models/deployments.ts';
import { expandEnvRefs } from '../config/env-ref.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { forwardedHeaders, passThroughUrl, pathSegments, safeBase } from '../passthrough/forward.ts';
import { passThroughCall, passThroughTimeoutMs } from '../passthrough/pass-through-call.ts';
import { readPassThroughBody } from '../passthrough/pass-through-body.ts';
import { passThroughGrant } from '../passthrough/allowed-routes.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;
type ConfigEndpoint = NonNullable<TollgateConfig['general_settings']['pass_through_endpoints']>[number];

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
  const who = endpoint.auth !== false ? await identify(headers, state, c.req.path, keyIn ?? state.keyHeader) : undefined;
  const client = await readPassThroughBody(c.req.raw, state);
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
  const deployment = standInDeployment('', endpoint.path);
  return passThroughCall(c, state, {
    headers, keyHeaders, who, group: endpoint.path, json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
    billed: false, generative: false, modelRoute: false, deployment, priceByAnswer: false, costPerRequest: endpoint.cost_per_request ?? 0,
    // As LiteLLM counts the endpoints it registers among the LLM API's routes (a key's allowed_routes).
    routeGroups: ['llm_api_routes'],
    // A key its allowed_passthrough_routes do not cover passes only as a proxy admin's (LiteLLM holds only
    // non-admins to the list): its role read once per key per 30 s, a 503 when it cannot be.
    authorize: (caller) => passThroughGrant(caller, c.req.path) === 'yes' ? undefined : requireProxyAdminKey(c.env, caller, c.req.path, 'pass-through endpoint'),
    send: (signal) => fetch(passThroughUrl(target.href, subpath, query), { method: c.req.method, headers: outbound, ...(client.bytes ? { body: client.bytes } : {}), signal }),
    apiBase: safeBase(target.href),
    timeoutMs: passThroughTimeoutMs(state.config, endpoint.timeout),
  }, seen);
}

/**
 * `os.environ/NAME` anywhere in a header value (`Bearer os.environ/COHERE_API_KEY`), replaced by the variable
 * (the Worker's, else config.yaml's `environment_variables`). One that is not set fails the call rather than
 * send an empty credential.
 */
function withEnvRefs(value: string, env: Record<string, unknown>): string {
  return expandEnvRefs(value, env, (name) => {
    throw new GatewayError(`Pass-through endpoint misconfigured: os.environ/${name} is not set`, { status: 500, type: 'internal_server_error' });
  });
}
