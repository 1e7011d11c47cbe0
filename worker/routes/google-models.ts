import type { Context } from 'hono';
import { identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { pickDeployment } from '../models/deployments.ts';
import { modelSegment } from '../providers/google/model-path.ts';
import { isClaude } from '../providers/vertex_ai/anthropic.ts';
import { accessTokens } from '../providers/vertex_ai/index.ts';
import { VERTEX_LABEL, vertexTarget } from '../providers/vertex_ai/target.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { gatewayState } from '../state.ts';
import { forwardedHeaders, passThroughUrl, safeBase } from '../passthrough/forward.ts';
import { DEFAULT_PASS_THROUGH_TIMEOUT_S, passThroughCall, readPassThroughBody } from '../passthrough/pass-through-call.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';
import { credentialOf, setCredential, withQueryKey } from '../passthrough/upstream-credentials.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// Gemini's methods on a model, and which of them run it (and are billed).
const METHODS = new Set(['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents']);
const BILLED = new Set(['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents']);
const GENERATIVE = new Set(['generateContent', 'streamGenerateContent']);

/**
 * `POST /v1beta/models/{group}:{method}` (also `/v1/...`), LiteLLM's Google-format routes: Google's own
 * API (`generateContent`, `streamGenerateContent`, `countTokens`, `embedContent`, `batchEmbedContents`)
 * for a model group of Gemini deployments, as the Gemini CLI and Google's SDKs call it with
 * `GOOGLE_GEMINI_BASE_URL` set to the gateway and a virtual key as their API key. The group names the
 * model; one of its deployments serves the call in Google's own format: Google AI Studio (`gemini/`) at
 * its `api_base`, or Vertex AI (`vertex_ai/`, Gemini models) under its project and location. Counted,
 * billed and logged as a pass-through call.
 */
export async function googleModelCall(c: Ctx): Promise<Response> {
  const seen: Seen = {};
  try {
    const state = await gatewayState(c.env);
    const url = new URL(c.req.url);
    const match = /^\/(v1beta|v1)\/models\/([^/:]+):([A-Za-z]+)$/.exec(url.pathname);
    if (!match || !METHODS.has(match[3]!)) throw new GatewayError(`Route not found: ${c.req.method} ${url.pathname.slice(0, 200)}`, { status: 404, type: 'not_found_error' });
    const [, version, encodedGroup, method] = match as unknown as [string, string, string, string];
    let group: string;
    try {
      group = decodeURIComponent(encodedGroup);
    } catch {
      throw badRequest('Invalid model name in the path');
    }
    // Google's SDKs may put the key in `?key=`: the gateway's key, never sent on.
    const headers = withQueryKey(headerSnapshot(c.req.raw.headers), url.searchParams.get('key'));
    const query = [...url.searchParams].filter(([name]) => name !== 'key' && name !== 'userProject');
    const who = await identify(headers, state.masterKeyHash, state.keyHeader);
    const client = await readPassThroughBody(c.req.raw, state);
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
    const gemini = resolveGroup(state.config, catalog, group).deployments
      .filter((d) => d.provider === 'gemini' || (d.provider === 'vertex_ai' && !isClaude(d.model)));
    const deployment = pickDeployment(gemini);
    if (!deployment) {
      throw badRequest(`Model group ${group} has no Gemini deployment (gemini/ or vertex_ai/): Google's format is served for those only; call /v1/chat/completions for the others`, 'model');
    }
    const outbound = forwardedHeaders(c.req.raw.headers, { all: true, keyHeaders: [state.keyHeader] });
    const target = deployment.provider === 'gemini' ? credentialOf(PASS_THROUGH_PREFIXES['/gemini']!, deployment, c.env) : {};
    if (deployment.provider === 'gemini') setCredential(outbound, PASS_THROUGH_PREFIXES['/gemini']!, target.key);
    const upstream = async (): Promise<URL> => {
      if (deployment.provider === 'gemini') {
        if (target.missing) throw target.missing;
        return passThroughUrl(target.base!, `/${version}/models/${modelSegment(deployment.model)}:${method}`, query);
      }
      const vertex = vertexTarget(deployment, c.env);
      outbound.set('authorization', `Bearer ${await accessTokens.token(vertex.account, VERTEX_LABEL, 'vertex_ai')}`);
      const path = `/v1/projects/${vertex.project}/locations/${vertex.location}/publishers/google/models/${modelSegment(deployment.model)}:${method}`;
      return passThroughUrl(vertex.base, path, query);
    };
    return await passThroughCall(c, state, {
      headers, keyHeaders: [state.keyHeader], who, group: deployment.group, json: client.json, bodyChars: client.bytes?.byteLength ?? 0,
      billed: BILLED.has(method), generative: GENERATIVE.has(method), deployment, priceByAnswer: false, requested: group,
      authorize: (caller) => authorizeModel(caller, group, catalog),
      send: async (signal) => fetch(await upstream(), { method: 'POST', headers: outbound, ...(client.bytes ? { body: client.bytes } : {}), signal }),
      apiBase: deployment.params.api_base ? safeBase(deployment.params.api_base) : deployment.provider === 'gemini' ? safeBase(target.base ?? '') : '',
      timeoutMs: (state.config.general_settings.pass_through_request_timeout ?? state.config.litellm_settings.request_timeout ?? DEFAULT_PASS_THROUGH_TIMEOUT_S) * 1000,
    }, seen);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'pass_through', seen, err);
    throw err;
  }
}

