import type { Context } from 'hono';
import { checkJwtModel } from '../auth/jwt-permissions.ts';
import { identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, pickDeployment, standInDeployment } from '../models/deployments.ts';
import { modelSegment } from '../providers/google/model-path.ts';
import { headerSnapshot, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { gatewayState } from '../state.ts';
import { passThroughUrl } from '../passthrough/forward.ts';
import { type PassThroughCall, passThroughCall, passThroughTimeoutMs } from '../passthrough/pass-through-call.ts';
import { readPassThroughBody } from '../passthrough/pass-through-body.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';
import { credentialOf, googleQuery, setCredential, vertexBearer, withQueryKey } from '../passthrough/upstream-credentials.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { googleEligible, googleOutbound, servedBy } from './google-call.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// Gemini's methods on a model, and which of them run it (and are billed).
const METHODS = new Set(['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents']);
const BILLED = new Set(['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents']);
const GENERATIVE = new Set(['generateContent', 'streamGenerateContent']);

/** Google's own models on Gemini's and Vertex AI's API: not a partner model (Claude, Llama, Mistral) on Vertex AI. */
function isGoogleModel(d: DeploymentRef): boolean {
  if (d.provider === 'gemini') return true;
  return d.provider === 'vertex_ai' && !d.model.includes('/') && /^(gemini|gemma|text-embedding|text-multilingual-embedding|multimodal-?embedding|embedding)/.test(d.model);
}

/**
 * The body with the model the path now names where Google's body repeats it: each of `batchEmbedContents`'
 * `requests[].model`, `countTokens`' `generateContentRequest.model` (Google refuses a body naming another).
 */
function withModelInBody(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const name = `models/${model}`;
  const out: Record<string, unknown> = { ...body };
  if (Array.isArray(body.requests)) out.requests = body.requests.map((r) => (r && typeof r === 'object' && 'model' in r ? { ...r, model: name } : r));
  const inner = body.generateContentRequest;
  if (inner && typeof inner === 'object' && 'model' in inner) out.generateContentRequest = { ...inner, model: name };
  return out;
}

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
    const query = googleQuery(url);
    const who = await identify(headers, state, c.req.path);
    const client = await readPassThroughBody(c.req.raw, state);
    const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
    if (who.permits) checkJwtModel(who.permits, group, catalog);
    const gemini = resolveGroup(state.config, catalog, group).deployments.filter(isGoogleModel);
    // LiteLLM serves these routes on its normal model call path, not as a pass-through: Google gets the body's
    // type and what the client accepts, and the client's own headers only as general_settings /
    // model_group_settings forward them (never its credentials), as the other model routes send.
    const safeHeaders = withoutCredentials(headers, state.keyHeader);
    const accept = headers.get('accept');
    const studio = PASS_THROUGH_PREFIXES['/gemini']!;
    // The deployment is chosen once the key is known (its aliases, its end user's region); until then the group's first prices the reservation.
    let deployment: DeploymentRef | undefined;
    const call: PassThroughCall = {
      headers, keyHeaders: [state.keyHeader], who, group, json: client.json, bodyChars: client.bytes?.byteLength ?? 0, opaque: client.opaque,
      billed: BILLED.has(method), generative: GENERATIVE.has(method), modelRoute: true, deployment: gemini[0] ?? standInDeployment('gemini', group), priceByAnswer: false, requested: group,
      authorize: (caller, admitted) => {
        const eligible = googleEligible(state.config, catalog, group, caller, admitted, {
          path: url.pathname, serves: isGoogleModel, kind: "Google's format (gemini/ or vertex_ai/ Gemini deployments; call /v1/chat/completions for the others)",
        });
        deployment = pickDeployment(eligible)!;
        servedBy(call, deployment);
      },
      send: async (signal) => {
        // Credentials a secret manager holds are read (or taken from this isolate's cache) for this call only.
        const d = await deploymentWithSecrets(deployment!, c.env);
        const outbound = googleOutbound(state.config, safeHeaders, [d.group, group], headers.get('content-type') ?? 'application/json', accept);
        const body = client.json ? withModelInBody(client.json, d.model) : undefined;
        const bytes = body ? new TextEncoder().encode(JSON.stringify(body)) : client.bytes;
        let target: URL;
        if (d.provider === 'gemini') {
          const credential = credentialOf(studio, d, c.env);
          if (credential.missing) throw credential.missing;
          setCredential(outbound, studio, credential.key);
          target = passThroughUrl(credential.base!, `/${version}/models/${modelSegment(d.model)}:${method}`, query);
        } else {
          const { authorization, target: vertex } = await vertexBearer(d, c.env);
          outbound.set('authorization', authorization);
          target = passThroughUrl(vertex.base, `/v1/projects/${vertex.project}/locations/${vertex.location}/publishers/google/models/${modelSegment(d.model)}:${method}`, query);
        }
        return fetch(target, { method: 'POST', headers: outbound, ...(bytes ? { body: bytes } : {}), signal });
      },
      apiBase: '',
      timeoutMs: passThroughTimeoutMs(state.config),
    };
    return await passThroughCall(c, state, call, seen);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'pass_through', seen, err);
    throw err;
  }
}

