import type { Context } from 'hono';
import { type Caller, identify } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, GatewayError } from '../errors.ts';
import { checkJwtModel } from '../auth/jwt-permissions.ts';
import { authorizeListedModel, authorizeModel, listsAllow } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, type ModelCatalog, pickDeployment, standInDeployment } from '../models/deployments.ts';
import { bedrockModelId } from '../providers/bedrock/index.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { gatewayState } from '../state.ts';
import { forwardedHeaders, passThroughUrl, pathSegments, readablePath, safeBase } from '../passthrough/forward.ts';
import { passThroughCall, passThroughTimeoutMs } from '../passthrough/pass-through-call.ts';
import { readPassThroughBody } from '../passthrough/pass-through-body.ts';
import { bedrockCredential, credentialOf, googleQuery, setCredential, signed, vertexBase, vertexBearer, withQueryKey } from '../passthrough/upstream-credentials.ts';
import { modelInBody, PASS_THROUGH_PREFIXES, type PassThroughProvider, requestedModel, withModelInPath } from '../passthrough/providers.ts';
import { deploymentWithSecrets, hasSecretRefs } from '../secrets/resolve.ts';
import { refuseUnbilledRun } from '../interactions/upstream.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// What a call to the provider makes (as opposed to a list, a file, a status): its reservation holds output tokens.
const GENERATIVE = /(?:\/(?:messages|chat\/completions|completions|responses|interactions|chat|converse|converse-stream|invoke|invoke-with-response-stream)|:(?:generateContent|streamGenerateContent|rawPredict|streamRawPredict))$/;
/**
 * The paths that run a model, whose answers' usage is billed (a POST): the generating ones, embeddings and
 * rerank (and Google's Interactions creates). Not their neighbours: a stored response or interaction read back or
 * cancelled, a message batch, a token count.
 */
const BILLED = /(?:\/(?:messages|chat\/completions|completions|responses|interactions|chat|embeddings|embed|rerank|converse|converse-stream|invoke|invoke-with-response-stream)|:(?:generateContent|streamGenerateContent|embedContent|batchEmbedContents|predict|rawPredict|streamRawPredict))$/;

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
      const query = provider.auth === 'x-goog-api-key' || provider.auth === 'google-oauth' ? googleQuery(url) : [...url.searchParams];
      if (prefix === '/gemini') headers = withQueryKey(headers, url.searchParams.get('key'));
      // Who is calling, before anything is read for them.
      const who = await identify(headers, state, c.req.path);
      const client = await readPassThroughBody(c.req.raw, state);
      const bodyModel = modelInBody(provider, segments);
      const requested = requestedModel(provider, segments, client.json);
      const catalog = await currentCatalog(state, c.env, c.executionCtx, requested ? { missing: requested } : {});
      const lent = lender(provider, catalog, requested);
      const lentModel = lent ? providerModel(lent.deployment) : undefined;
      const byGroup = lent?.kind === 'group' && lentModel !== requested;
      let bytes = client.bytes;
      if (client.json && (byGroup || 'litellm_metadata' in client.json)) {
        // LiteLLM's own field is not the provider's; a group's name becomes its deployment's model.
        const { litellm_metadata: _ours, ...rest } = client.json;
        if (byGroup && bodyModel) rest.model = lentModel;
        bytes = new TextEncoder().encode(JSON.stringify(rest));
      }
      if (byGroup && !bodyModel) segments = withModelInPath(provider, segments, lentModel!);
      const subpath = `/${segments.join('/')}`;
      // A deployment lent only for its credential does not set the price: the model asked for (or answered) does.
      const named = lent && lent.kind !== 'lent' ? lent.deployment : undefined;
      const deployment = named ?? standInDeployment(provider.provider, requested ?? '', { clientNamed: true });
      const source = lent?.deployment ?? deployment;
      const targetOf = (credentials: DeploymentRef) => provider.auth === 'google-oauth' ? vertexBase(credentials, c.env, readable)
        : provider.auth === 'aws-sigv4' ? bedrockCredential(credentials, c.env) : credentialOf(provider, lent ? credentials : undefined, c.env);
      // A credential a secret manager holds is read (or taken from this isolate's cache) for this request only,
      // in `send`: after the caller is authorized, so an unknown key never makes the gateway ask the manager.
      // Where the call goes does not depend on a secret: taken from the unresolved deployment (no I/O).
      const unresolved = targetOf(source);
      const early = hasSecretRefs(source) ? undefined : unresolved;
      const outbound = forwardedHeaders(c.req.raw.headers, { all: true, keyHeaders: [state.keyHeader] });
      if (provider.provider === 'openai' && lent?.deployment.params.organization) outbound.set('openai-organization', lent.deployment.params.organization);
      const billed = c.req.method === 'POST' && BILLED.test(readable);
      return await passThroughCall(c, state, {
        headers, keyHeaders: [state.keyHeader], who, group: named?.group ?? requested ?? '', json: client.json, bodyChars: client.bytes?.byteLength ?? 0, opaque: client.opaque,
        billed, generative: billed && GENERATIVE.test(readable), modelRoute: true, deployment, priceByAnswer: !named, requested,
        authorize: (caller) => {
          authorizePassThrough(caller, requested, named, catalog, readable);
          // An agent's or background interaction would be billed only its prompt's estimate: refused for keys (interactions/upstream.ts).
          refuseUnbilledRun(caller, c.req.method, readable, client.json);
        },
        send: async (signal) => {
          const credentials = early ? source : await deploymentWithSecrets(source, c.env, (p) => c.executionCtx.waitUntil(p));
          const target = early ?? targetOf(credentials);
          if (target.missing) throw target.missing;
          setCredential(outbound, provider, target.key);
          if (provider.auth === 'google-oauth') {
            const { authorization, target: vertex } = await vertexBearer(credentials, c.env);
            const project = /(?:^|\/)projects\/([^/]+)\//.exec(readable)?.[1];
            // The service account may reach other projects; the path may not pick one (who pays is the operator's choice).
            if (project && project !== vertex.project) throw badRequest('The path names a Google Cloud project other than the one the gateway\'s Vertex AI credentials are for');
            outbound.set('authorization', authorization);
          }
          const upstream = passThroughUrl(target.base!, subpath, query, { versionPrefix: provider.versionPrefix, dedupe: true, ...rules });
          return fetch(upstream, { method: c.req.method, headers: target.aws ? await signed(target.aws, upstream, bytes, outbound, c.req.method) : outbound, ...(bytes ? { body: bytes } : {}), signal });
        },
        apiBase: unresolved.base ? safeBase(unresolved.base) : '',
        timeoutMs: passThroughTimeoutMs(state.config),
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

// Paths that hand out a provider credential (ephemeral keys for the browser): a client holding one calls the provider directly, past every limit.
const MINTS_CREDENTIALS = /\/realtime(?:api)?\/(?:client_secrets|sessions|transcription_sessions|calls)$|\/auth_tokens$/;

/**
 * A key held to some models calls only those: the model the request names, by its group when a deployment
 * of its provider serves it (`named`: the group the request named, or the group of the deployment of that
 * model; never one lent for its credential alone), else by its own name. A request naming no model (a list,
 * a file) is for keys held to none. No key but the master key mints provider credentials.
 * A JWT's role and scope models (`permits`) hold the model a request names, an admin token's too (a master caller
 * carrying permits); as in LiteLLM they do not hold a request naming no model, which its route holds.
 */
function authorizePassThrough(caller: Caller, requested: string | undefined, named: DeploymentRef | undefined, catalog: ModelCatalog, path: string): void {
  const subject = named ? named.group : requested;
  if (caller.kind === 'master') {
    if (caller.permits && subject !== undefined) checkJwtModel(caller.permits, subject, catalog);
    return;
  }
  if (MINTS_CREDENTIALS.test(path)) {
    throw new GatewayError('This path hands out a provider credential, which would escape the key\'s limits: only the master key may call it', { status: 403, type: 'auth_error' });
  }
  if (subject !== undefined) return authorizeModel(caller, subject, catalog);
  if (listsAllow(caller, '', catalog)) return;
  authorizeListedModel(caller, '(a pass-through request that names no model)', catalog);
  throw new GatewayError('key not allowed to access model', { status: 401, type: 'key_model_access_denied', param: 'model' });
}


