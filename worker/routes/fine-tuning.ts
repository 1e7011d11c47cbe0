import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { authorizeModel } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { recordCreation } from './creation-spend.ts';
import { type FineTuningJob, jobIds, jobOf, providerJson, shownCheckpoints, shownEvents, shownJob, withClientIds } from './fine-tuning-objects.ts';
import { admitCreation, listOwned, ownedListAnswer, ownedMetadata, warnIfUnowned } from './owned-objects.ts';
import { type Ctx, homeHeaders, homeOf, homeOfGroup, homeOfId, homeOfRouteId, listQuery, namedGroup, type ObjectHome, sameAccount } from './provider-objects.ts';

/**
 * OpenAI's fine-tuning jobs API (LiteLLM's `/fine_tuning/jobs` routes), in the provider account of the
 * job's training file, for the files' owner. Not billed by the gateway, as LiteLLM does not bill them:
 * the provider bills the account for the training.
 */

const createJobSchema = z.object({
  model: z.string().min(1),
  training_file: z.string().min(1),
  validation_file: z.string().min(1).nullable().optional(),
  hyperparameters: z.record(z.string(), z.unknown()).nullable().optional(),
  method: z.record(z.string(), z.unknown()).nullable().optional(),
  suffix: z.string().nullable().optional(),
  seed: z.number().int().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  integrations: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
  // LiteLLM's routing field: the account comes from the training file's id.
  custom_llm_provider: z.string().optional(),
});

/** The client's fields OpenAI takes as they come. */
const PASSED = ['hyperparameters', 'method', 'suffix', 'seed', 'integrations'] as const;

/** The methods a virtual key may name: neither runs a model but the one tuned. */
const KEY_METHODS = new Set(['supervised', 'dpo']);

/**
 * Reinforcement fine-tuning's graders (`score_model`, `label_model`, nested in `multi`) run models of their
 * own in the account, which no key's model access covers and the gateway does not bill: a virtual key
 * makes supervised and DPO jobs only (any method OpenAI adds later too, until it is known to run none).
 */
function refuseGradedMethod(method: Record<string, unknown> | null | undefined): void {
  if (!method) return;
  const type = method.type;
  if (typeof type === 'string' && KEY_METHODS.has(type) && !('reinforcement' in method)) return;
  const named = typeof type === 'string' ? `method.type ${type.slice(0, 40)}` : 'A method without a type';
  throw new GatewayError(`${named} is for the master key only: a virtual key makes supervised and dpo fine-tuning jobs (reinforcement's graders run models outside the key's models, unbilled)`, {
    status: 400, type: 'invalid_request_error', param: 'method',
  });
}

/**
 * `POST /v1/fine_tuning/jobs`: a job of the training file the id names (the caller's own), in that file's
 * account, its validation file the caller's too and of the same account. Counted as one request against
 * the key's limits (a blocked key, or one over a budget, is refused) and logged at no cost.
 */
export async function createFineTuningJob(c: Ctx): Promise<Response> {
  try {
    const startedAt = Date.now();
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const body = await readJsonBody(c.req.raw, createJobSchema, bodyLimit(state.config));
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    if (caller.kind !== 'master') refuseGradedMethod(body.method);
    const training = homeOfId(c, state, caller, catalog, 'file', body.training_file);
    const validation = body.validation_file ? homeOfId(c, state, caller, catalog, 'file', body.validation_file) : undefined;
    if (validation && !sameAccount(validation.home.deployment, training.home.deployment)) {
      throw new GatewayError('validation_file is in another provider account than training_file: upload both through model groups of one account', {
        status: 400, type: 'invalid_request_error', param: 'validation_file',
      });
    }
    const { home, model } = jobTarget(c, state, caller, catalog, body.model, training.home);
    const metadata = ownedMetadata(body.metadata, caller, home, 'fine-tuning job');
    const requestId = crypto.randomUUID();
    const { tags, release } = await admitCreation(c, state, home, requestId);
    const logged = { callType: 'acreate_fine_tuning_job', caller, deployment: home.deployment, model, tags, startedAt } as const;
    // The ids the request named, as the provider's messages name them and as the client sent them.
    const sentIds = new Map([[training.upstreamId, body.training_file]]);
    if (validation && body.validation_file) sentIds.set(validation.upstreamId, body.validation_file);
    try {
      const passed = Object.fromEntries(PASSED.filter((name) => body[name] !== undefined).map((name) => [name, body[name]]));
      const res = await home.send({
        method: 'POST', path: 'fine_tuning/jobs', query: [],
        body: JSON.stringify({
          model, training_file: training.upstreamId, ...(validation ? { validation_file: validation.upstreamId } : {}), ...passed, metadata,
        }),
      });
      const job = jobOf(await providerJson(res, 'a new fine-tuning job'));
      if (typeof job.id !== 'string') throw new GatewayError('The provider answered the fine-tuning job without an id', { status: 502, type: 'api_error' });
      warnIfUnowned(job, home, 'fine-tuning job');
      recordCreation(c.env, c.executionCtx, { ...logged, requestId: job.id });
      return Response.json(shownJob(home, job), { headers: homeHeaders(home) });
    } catch (err) {
      const failure = withClientIds(err, sentIds);
      // Every failure is logged: one the gateway did not foresee as the 500 its client gets.
      const loggedError = failure instanceof GatewayError ? failure : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
      recordCreation(c.env, c.executionCtx, { ...logged, requestId, error: loggedError });
      throw failure;
    } finally {
      release();
    }
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * The model the provider fine-tunes, and the deployment the job is made through: a model group's name
 * becomes its deployment's model in the training file's account (as LiteLLM's router sends a group's);
 * any other name goes as given, made through the file's deployment. Either must be one the caller's
 * models admit, as LiteLLM's auth reads the body's `model`.
 */
function jobTarget(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, model: string, fileHome: ObjectHome): { home: ObjectHome; model: string } {
  authorizeModel(caller, model, catalog);
  const group = catalog.groups.get(model);
  if (!group) return { home: fileHome, model };
  const deployment = group.find((d) => PROVIDERS.get(d.provider)?.objectRequest && sameAccount(d, fileHome.deployment));
  if (!deployment) {
    throw new GatewayError(`Model group ${model} has no deployment in the provider account of training_file (model group ${fileHome.deployment.group}'s): name one that has, or the base model`, {
      status: 400, type: 'invalid_request_error', param: 'model',
    });
  }
  return { home: deployment.id === fileHome.deployment.id ? fileHome : homeOf(c, state, caller, deployment), model: deployment.model };
}

/**
 * `GET /v1/fine_tuning/jobs?model=...` (or `x-litellm-model`, or LiteLLM's `target_model_names` of one
 * group): the account's jobs the caller owns (every one for the master key) made through the group's
 * deployment, newest first, as batches are listed.
 */
export async function listFineTuningJobs(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const target = c.req.query('target_model_names');
    if (target?.includes(',')) {
      throw new GatewayError('target_model_names on list fine-tuning jobs must name one model group', { status: 400, type: 'invalid_request_error', param: 'target_model_names' });
    }
    const catalog = await currentCatalog(state, c.env, c.executionCtx);
    const home = homeOfGroup(c, state, caller, catalog, namedGroup(c) ?? (target?.trim() || undefined));
    const page = await listOwned<FineTuningJob>(c, caller, home, 'fine_tuning_job', 'fine_tuning/jobs');
    return ownedListAnswer(home, page.own.map((job) => shownJob(home, job)), page);
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * `GET /v1/fine_tuning/jobs/{id}`, `POST .../cancel`, `GET .../events` and `GET .../checkpoints`, by the
 * id the gateway gave out, for the job's owner (anyone else: the 404 of an unknown id). Events name the
 * job's files, so the job is read beside them: only its own ids are shown as the gateway's.
 */
export function fineTuningJobById(method: 'GET' | 'POST', suffix: '' | '/cancel' | '/events' | '/checkpoints') {
  return async (c: Ctx): Promise<Response> => {
    const sentIds = new Map<string, string>();
    try {
      const { home, upstreamId } = await homeOfRouteId(c, 'fine_tuning_job');
      sentIds.set(upstreamId, c.req.param('id') ?? upstreamId);
      const jobPath = `fine_tuning/jobs/${encodeURIComponent(upstreamId)}`;
      const read = async (path: string, what: string, query: [string, string][] = []) => providerJson(await home.send({ method, path, query }), what);
      // Events and checkpoints page by their own ids (`after`, `limit`), passed on.
      let shown: unknown;
      if (suffix === '/events') {
        const [jobRead, events] = await Promise.all([read(jobPath, 'a fine-tuning job'), read(`${jobPath}/events`, 'fine-tuning events', await listQuery(c, 'fine_tuning_job'))]);
        shown = shownEvents(jobIds(home, { ...jobOf(jobRead), id: upstreamId }), events);
      } else if (suffix === '/checkpoints') {
        shown = shownCheckpoints(home, upstreamId, await read(`${jobPath}/checkpoints`, 'fine-tuning checkpoints', await listQuery(c, 'fine_tuning_job')));
      } else {
        shown = shownJob(home, await read(`${jobPath}${suffix}`, 'a fine-tuning job'));
      }
      return Response.json(shown, { headers: homeHeaders(home) });
    } catch (err) {
      return errorResponse(withClientIds(err, sentIds));
    }
  };
}
