import { DurableObject } from 'cloudflare:workers';
import { withConfigEnv } from '../config/config-env.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, deploymentById } from '../models/deployments.ts';
import { responsesOutputText } from '../providers/openai-compatible/answers.ts';
import { estimatedUsage, readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { PROVIDERS } from '../providers/registry.ts';
import type { UsageReport } from '../providers/types.ts';
import { LATER_WORK_BILLED_FOR_MS } from '../limits/counters.ts';
import { hasGlobalBudget } from '../proxy/call-admission.ts';
import { DEFAULT_TIMEOUT_S } from '../proxy/call-helpers.ts';
import { billLaterWork } from '../proxy/later-spend.ts';
import { gatewayState } from '../state.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import { flushSpendLogs } from '../telemetry/spend-log.ts';

/** A background response the gateway created, until it is billed. */
export interface TrackedResponse {
  deploymentId: string;
  group: string;
  /** The provider's id. */
  responseId: string;
  /** The hash of the key that asked (the master key's included), whom it belongs to (responseOwner), and whether it was the master key. */
  creator: string;
  owner: string;
  master: boolean;
  endUser: string | null;
  tags: string[];
  /** The prompt's tokens as the gateway estimated them: billed with the output's text when the provider reports no usage. */
  promptTokenEstimate: number;
  /** Epoch ms. */
  trackedAt: number;
}

interface ResponseBody {
  id?: unknown;
  status?: unknown;
  usage?: unknown;
  output?: unknown;
  created_at?: unknown;
  completed_at?: unknown;
}

/** A background response over: its usage is final (a cancelled one's, what ran). */
const RESPONSE_OVER = new Set(['completed', 'incomplete', 'failed', 'cancelled']);
/** First look after POLL_FIRST_MS, then twice as long each time up to POLL_MAX_MS, until LATER_WORK_BILLED_FOR_MS has passed. */
const POLL_FIRST_MS = 30_000;
const POLL_MAX_MS = 10 * 60_000;

/**
 * One object per background response (`background: true`) the gateway created: it asks the provider
 * (with an alarm, less often as time goes on) until the response is over, then bills its usage to the
 * key that asked, once, whether or not the client ever reads it (a follow-up could use it unread). A
 * read or cancel through the gateway that sees it over bills it at once (`seen`); a delete looks a last
 * time first (`lastLook`). Its work is done one piece at a time (a read and the alarm never bill twice
 * or drop the watch under each other), and the watch ends only once it is billed, the response is gone,
 * or 30 days have passed.
 */
export class BackgroundResponses extends DurableObject<GatewayEnv> {
  #turn: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    // config.yaml's environment_variables, as the Workers' handlers see them (config-env.ts).
    super(ctx, withConfigEnv(env));
  }

  async track(work: TrackedResponse): Promise<void> {
    await this.#inTurn(async () => {
      if (!(await this.ctx.storage.get('work'))) await this.ctx.storage.put({ work, wait: this.#firstPoll() });
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.#firstPoll());
    });
  }

  /** The response as a read through the gateway just got it: billed now when it is over. */
  async seen(response: ResponseBody): Promise<void> {
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<TrackedResponse>('work');
      if (work && (await this.#bill(work, response))) await this.#done();
    });
  }

  /**
   * The response is about to be deleted through the gateway, and cannot be read after: billed now if it
   * is over, cancelled first if it is still running (its usage is then what ran). Watched on otherwise.
   */
  async lastLook(): Promise<boolean> {
    let safe = false;
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<TrackedResponse>('work');
      if (!work) {
        safe = true;
        return;
      }
      let response = await this.#ask(work, 'GET', true).catch(() => undefined);
      if (response && !RESPONSE_OVER.has(String(response.status))) {
        await this.#ask(work, 'POST', true).catch(() => undefined);
        // Cancelled (or over meanwhile): read as it now is.
        response = await this.#ask(work, 'GET', true).catch(() => undefined);
      }
      if (response === null || (response && (await this.#bill(work, response)))) {
        await this.#done();
        safe = true;
      }
    });
    return safe;
  }

  /** The watch on a response whose creation the client was told failed (it was cancelled): nothing to bill. */
  async forget(): Promise<void> {
    await this.#inTurn(() => this.#done());
  }

  override async alarm(): Promise<void> {
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<TrackedResponse>('work');
      if (!work) return;
      // The next look is set first: whatever fails below, the watch goes on.
      const wait = Math.min(POLL_MAX_MS, ((await this.ctx.storage.get<number>('wait')) ?? this.#firstPoll()) * 2);
      await this.ctx.storage.put('wait', wait);
      await this.ctx.storage.setAlarm(Date.now() + wait);
      try {
        const response = await this.#ask(work, 'GET');
        if (response === null || (await this.#bill(work, response))) {
          await this.#done();
          return;
        }
      } catch (err) {
        console.error(`background response ${work.responseId}: not billed yet, asked again later:`, err instanceof Error ? err.message : String(err));
      }
      if (Date.now() - work.trackedAt > LATER_WORK_BILLED_FOR_MS) {
        console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId} (deployment ${work.deploymentId}) was not seen over in 30 days`);
        await this.#done();
      }
    });
  }

  /** One piece of work at a time: a read's bill and the alarm's never run together. */
  #inTurn(run: () => Promise<void>): Promise<void> {
    const next = this.#turn.then(run, run);
    this.#turn = next.catch(() => undefined);
    return next;
  }

  async #done(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  async #deployment(work: TrackedResponse): Promise<{ deployment: DeploymentRef; timeoutMs: number }> {
    const state = await gatewayState(this.env);
    const catalog = await currentCatalog(state, this.env as unknown as Record<string, unknown>, this.ctx, { missing: work.group });
    const deployment = deploymentById(catalog, work.deploymentId, work.group);
    // Not found may be a model store not read yet: asked again until the watch ends.
    if (!deployment) throw new Error(`deployment ${work.deploymentId} of ${work.group} not found`);
    return { deployment, timeoutMs: (state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000 };
  }

  /**
   * The provider's response (GET), or the response cancelled (POST). A 404 is taken as gone (null) only
   * just before the gateway deletes it (`gone`); otherwise it may be a deployment's changed credentials,
   * and is asked about again until the watch ends.
   */
  async #ask(work: TrackedResponse, method: 'GET' | 'POST', gone = false): Promise<ResponseBody | null> {
    const { deployment, timeoutMs } = await this.#deployment(work);
    const adapter = PROVIDERS.get(deployment.provider);
    if (!adapter?.storedResponse) throw new Error(`${deployment.provider} keeps no stored responses`);
    const res = await adapter.storedResponse({
      deployment, env: this.env as unknown as Record<string, unknown>, method, responseId: work.responseId, suffix: method === 'POST' ? '/cancel' : '', query: [], timeoutMs,
    }).catch((err: unknown) => {
      if (gone && err instanceof GatewayError && err.status === 404) return null;
      throw err;
    });
    return res && await res.json() as ResponseBody;
  }

  /** Bills the response if it is over; true once billed. */
  async #bill(work: TrackedResponse, response: ResponseBody): Promise<boolean> {
    if (response.id !== work.responseId) {
      console.error(`background response ${work.responseId}: the provider answered for ${String(response.id)}`);
      return false;
    }
    if (!RESPONSE_OVER.has(String(response.status))) return false;
    const { deployment } = await this.#deployment(work);
    const state = await gatewayState(this.env);
    // No usage reported (a failed or cancelled one): the prompt and what it wrote, as the gateway estimates
    // them; one cancelled with nothing written may never have run, and costs nothing.
    const output = responsesOutputText(response.output);
    const reported = readOpenAIUsage(response.usage);
    if (!reported && response.status === 'cancelled' && !output) return true;
    const usage: UsageReport = reported ?? estimatedUsage(work.promptTokenEstimate, output?.length ?? 0);
    const billed = await billLaterWork(this.env, this.ctx, {
      id: work.responseId, callType: 'aresponses', deployment, creator: work.creator, owner: work.owner, master: work.master,
      createdAt: Number(response.created_at) || Math.floor(work.trackedAt / 1000),
      completedAt: Number(response.completed_at) || Math.floor(Date.now() / 1000),
      globalBudget: hasGlobalBudget(state.config), endUser: work.endUser, tags: work.tags,
    }, async () => ({ usage, cost: costOfCall(deployment, usage), metadata: { background: true, status: response.status, ...(usage.reported ? {} : { usage_estimated: true }) } }));
    // An object does not outlive its work by a timer: the spend log goes now.
    if (billed) await flushSpendLogs(this.env);
    return billed;
  }

  #firstPoll(): number {
    // Tests wait seconds, not minutes (only in test mode: no config shortens it in production).
    return (this.env.TOLLGATE_TEST_MODE === '1' && Number(this.env.TOLLGATE_BACKGROUND_POLL_MS)) || POLL_FIRST_MS;
  }
}

type TrackerStub = Pick<BackgroundResponses, 'track' | 'seen' | 'lastLook' | 'forget'>;

function tracker(env: GatewayEnv, deploymentId: string, responseId: string): TrackerStub | undefined {
  const ns = env.BACKGROUND_RESPONSES;
  return ns ? ns.get(ns.idFromName(`${deploymentId}:${responseId}`)) as unknown as TrackerStub : undefined;
}

/**
 * Starts the watch on a background response the gateway just created, before the client gets its id
 * (tried twice, each with a stub of its own). When it cannot, the response is cancelled (it would run
 * unbilled) and the call's error is returned.
 */
export async function watchBackgroundResponse(env: GatewayEnv, ctx: WaitUntil, deployment: DeploymentRef, work: TrackedResponse, timeoutMs: number): Promise<GatewayError | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const stub = tracker(env, work.deploymentId, work.responseId);
    if (!stub) break;
    try {
      await stub.track(work);
      return undefined;
    } catch (err) {
      console.error(`background response ${work.responseId}: watch not started (attempt ${attempt + 1}):`, err instanceof Error ? err.message : String(err));
    }
  }
  ctx.waitUntil(cancelUnwatched(env, deployment, work.responseId, timeoutMs));
  return new GatewayError('The background response could not be watched for billing, so it was cancelled: try again', { status: 503, type: 'service_unavailable_error' });
}

/** A watch half started is dropped, and the response cancelled. */
async function cancelUnwatched(env: GatewayEnv, deployment: DeploymentRef, responseId: string, timeoutMs: number): Promise<void> {
  await tracker(env, deployment.id, responseId)?.forget().catch(() => undefined);
  try {
    await PROVIDERS.get(deployment.provider)?.storedResponse?.({ deployment, env: env as unknown as Record<string, unknown>, method: 'POST', responseId, suffix: '/cancel', query: [], timeoutMs });
  } catch (err) {
    console.error(`BACKGROUND RESPONSE NOT BILLED: ${responseId} could be neither watched nor cancelled:`, err instanceof Error ? err.message : String(err));
  }
}

/** A read through the gateway saw the response: its watcher bills it now if it is over. */
export async function backgroundResponseSeen(env: GatewayEnv, deploymentId: string, responseId: string, response: ResponseBody): Promise<void> {
  await tracker(env, deploymentId, responseId)?.seen(response);
}

/**
 * Before a response is deleted through the gateway: its watcher bills it (cancelled first, if still
 * running). False when it could not: the response must not be deleted yet.
 */
export async function backgroundResponseDeleted(env: GatewayEnv, deploymentId: string, responseId: string): Promise<boolean> {
  const stub = tracker(env, deploymentId, responseId);
  if (!stub) return true;
  return await stub.lastLook().catch((err: unknown) => {
    console.error(`background response ${responseId}: last look failed:`, err instanceof Error ? err.message : String(err));
    return false;
  });
}
