import type { Context } from 'hono';
import { deploymentPrice } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import { publicParams } from '../models/db-models.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { providerFor } from '../providers/registry.ts';
import type { Endpoint } from '../providers/types.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** How long one deployment gets to answer its probe. */
const PROBE_TIMEOUT_MS = 10_000;
const PARALLEL_PROBES = 6;

const NO_HEADERS = { get: () => null, forEach: () => undefined };

/**
 * `GET /health` (`?model=<group>`): LiteLLM's model health check. Every
 * deployment the caller may call (wildcard groups aside) gets one tiny real
 * call, six at a time: a one-token chat completion, or an embedding of one word
 * for embedding models. Answers `{healthy_endpoints, unhealthy_endpoints,
 * healthy_count, unhealthy_count}`, each endpoint its litellm_params without
 * credentials (an unhealthy one with the error). Probes are not calls: they
 * write no spend log and count against no budget or limit.
 */
export async function modelHealth(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const only = c.req.query('model');
  const catalog = await currentCatalog(state, c.env, c.executionCtx, only ? { missing: only } : {});
  const deployments: DeploymentRef[] = [];
  for (const [group, list] of catalog.groups) {
    if (group.includes('*') || (only !== undefined && group !== only) || !mayCall(caller, group, catalog)) continue;
    deployments.push(...list);
  }
  if (only !== undefined && deployments.length === 0) {
    throw new GatewayError(`Invalid model name passed in model=${only}. Call \`/v1/models\` to view available models for your key.`, { status: 400, type: 'bad_request_error', param: 'model' });
  }
  // At most PARALLEL_PROBES at a time: a Worker invocation opens six connections at once and queues the rest,
  // and a probe's timeout runs from its call, so a queued probe could time out before it was sent.
  const probes: { d: DeploymentRef; error: string | undefined }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PROBES, deployments.length) }, async () => {
    while (next < deployments.length) {
      const i = next++;
      const d = deployments[i] as DeploymentRef;
      probes[i] = { d, error: await probe(c, d, state.config.litellm_settings.drop_params === true) };
    }
  }));
  const endpoint = (d: DeploymentRef) => ({ ...publicParams(d.params), model_group: d.group, model_id: d.id });
  const healthy = probes.filter((p) => p.error === undefined).map((p) => endpoint(p.d));
  const unhealthy = probes.filter((p) => p.error !== undefined).map((p) => ({ ...endpoint(p.d), error: p.error }));
  return c.json({ healthy_endpoints: healthy, unhealthy_endpoints: unhealthy, healthy_count: healthy.length, unhealthy_count: unhealthy.length });
}

/** One tiny call to the deployment; the error's message when it fails. */
async function probe(c: Ctx, d: DeploymentRef, dropParams: boolean): Promise<string | undefined> {
  const mode = d.info.mode ?? deploymentPrice(d)?.mode;
  const endpoint: Endpoint = mode === 'embedding' ? 'embedding' : mode === 'completion' ? 'completion' : 'chat';
  const body: Record<string, unknown> = endpoint === 'embedding'
    ? { model: d.group, input: ['ping'] }
    : endpoint === 'completion' ? { model: d.group, prompt: 'ping', max_tokens: 1 } : { model: d.group, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
  try {
    const adapter = providerFor(d, endpoint, typeof d.params.mock_response === 'string');
    const answer = await adapter.call({
      endpoint, deployment: d, body: typeof d.params.mock_response === 'string' ? { ...body, mock_response: d.params.mock_response } : body,
      stream: false, clientWantsUsage: false, dropParams, env: c.env, timeoutMs: PROBE_TIMEOUT_MS, promptTokenEstimate: 1, keepText: false, headers: NO_HEADERS,
    });
    const outcome = await answer.outcome;
    return outcome.error ? outcome.error.message : undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
