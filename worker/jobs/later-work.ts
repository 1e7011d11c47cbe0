import { DurableObject } from 'cloudflare:workers';
import { withConfigEnv } from '../config/config-env.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { LATER_WORK_BILLED_FOR_MS } from '../limits/counters.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, deploymentById } from '../models/deployments.ts';
import { responsesOutputText } from '../providers/openai-compatible/answers.ts';
import { estimatedUsage, readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { PROVIDERS } from '../providers/registry.ts';
import type { UsageReport } from '../providers/types.ts';
import { hasGlobalBudget } from '../proxy/call-admission.ts';
import { DEFAULT_TIMEOUT_S } from '../proxy/call-helpers.ts';
import { batchOutputUsage, billLaterWork } from '../proxy/later-spend.ts';
import { gatewayState } from '../state.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import { flushSpendLogs } from '../telemetry/spend-log.ts';

/** Who asked for a piece of work the provider does later, and where it runs. */
interface WatchedBase {
  deploymentId: string;
  group: string;
  /** The hash of the key that asked (the master key's included), whom it belongs to (responseOwner), and whether it was the master key. */
  creator: string;
  owner: string;
  master: boolean;
  /** Epoch ms. */
  trackedAt: number;
}

/** A background response (`background: true`). */
export interface WatchedResponse extends WatchedBase {
  kind: 'response';
  /** The provider's id. */
  id: string;
  endUser: string | null;
  tags: string[];
  /** The prompt's tokens as the gateway estimated them: billed with the output's text when the provider reports no usage. */
  promptTokenEstimate: number;
}

/** A batch (`POST /v1/batches`). */
export interface WatchedBatch extends WatchedBase {
  kind: 'batch';
  /** The provider's id. */
  id: string;
  endpoint: string;
}

export type Watched = WatchedResponse | WatchedBatch;

/** A provider's response or batch object, as far as the watcher reads it. */
interface WorkBody {
  id?: unknown;
  status?: unknown;
  usage?: unknown;
  output?: unknown;
  output_file_id?: unknown;
  created_at?: unknown;
  completed_at?: unknown;
}

/** A response over: its usage is final (a cancelled one's, what ran). */
const RESPONSE_OVER = new Set(['completed', 'incomplete', 'failed', 'cancelled']);
/** A batch over: done, failed, or cancelled or expired part way (the provider bills what it ran: its output). */
export const BATCH_OVER = new Set(['completed', 'failed', 'cancelled', 'expired']);
/** First look after POLL_FIRST_MS, then twice as long each time up to POLL_MAX_MS, until LATER_WORK_BILLED_FOR_MS has passed. */
const POLL_FIRST_MS = 30_000;
/** Time to read a batch's output file: within the 15 minutes an alarm may run, with room for the rest. */
const OUTPUT_READ_MS = 11 * 60_000;
const POLL_MAX_MS = 10 * 60_000;

/**
 * One object per piece of work a provider does after the call that asked for it (a background
 * response, a batch): it asks the provider (with an alarm, less often as time goes on) until the work
 * is over, then bills it to the key that asked, once, whether or not the client ever reads it (a
 * follow-up could use a response unread). A read through the gateway that sees it over bills it at once
 * (`seen`); a delete looks a last time first (`lastLook`). Its work is done one piece at a time (a read
 * and the alarm never bill twice or drop the watch under each other), and the watch ends only once the
 * work is billed, it is gone, or LATER_WORK_BILLED_FOR_MS has passed.
 */
export class LaterWork extends DurableObject<GatewayEnv> {
  #turn: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    // config.yaml's environment_variables, as the Workers' handlers see them (config-env.ts).
    super(ctx, withConfigEnv(env));
  }

  async track(work: Watched): Promise<void> {
    await this.#inTurn(async () => {
      if (!(await this.ctx.storage.get('work'))) await this.ctx.storage.put({ work, wait: this.#firstPoll() });
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.#firstPoll());
    });
  }

  /** The work as a read through the gateway just got it: billed now when it is over. */
  async seen(body: WorkBody): Promise<void> {
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<Watched>('work');
      if (work && (await this.#bill(work, body))) await this.#done();
    });
  }

  /**
   * A response is about to be deleted through the gateway, and cannot be read after: billed now if it is
   * over, cancelled first if it is still running (its usage is then what ran). False when it could not
   * be: the response must not be deleted yet.
   */
  async lastLook(): Promise<boolean> {
    let safe = false;
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<Watched>('work');
      if (!work) {
        safe = true;
        return;
      }
      let body = await this.#ask(work, 'GET', true).catch(() => undefined);
      if (body && !this.#over(work, body)) {
        await this.#ask(work, 'POST', true).catch(() => undefined);
        // Cancelled (or over meanwhile): read as it now is.
        body = await this.#ask(work, 'GET', true).catch(() => undefined);
      }
      if (body === null || (body && (await this.#bill(work, body)))) {
        await this.#done();
        safe = true;
      }
    });
    return safe;
  }

  /** The watch on work whose creation the client was told failed (it was cancelled): nothing to bill. */
  async forget(): Promise<void> {
    await this.#inTurn(() => this.#done());
  }

  override async alarm(): Promise<void> {
    await this.#inTurn(async () => {
      const work = await this.ctx.storage.get<Watched>('work');
      if (!work) return;
      // The next look is set first: whatever fails below, the watch goes on.
      const wait = Math.min(POLL_MAX_MS, ((await this.ctx.storage.get<number>('wait')) ?? this.#firstPoll()) * 2);
      await this.ctx.storage.put('wait', wait);
      await this.ctx.storage.setAlarm(Date.now() + wait);
      try {
        const body = await this.#ask(work, 'GET');
        if (body && (await this.#bill(work, body))) {
          await this.#done();
          return;
        }
      } catch (err) {
        console.error(`${work.kind} ${work.id}: not billed yet, asked again later:`, err instanceof Error ? err.message : String(err));
      }
      if (Date.now() - work.trackedAt > LATER_WORK_BILLED_FOR_MS) {
        console.error(`${work.kind.toUpperCase()} NOT BILLED: ${work.id} (deployment ${work.deploymentId}) was not seen over in 30 days`);
        await this.#done();
      }
    });
  }

  /** One piece of work at a time: a read's bill and the alarm never run together. */
  #inTurn(run: () => Promise<void>): Promise<void> {
    const next = this.#turn.then(run);
    this.#turn = next.catch(() => undefined);
    return next;
  }

  async #done(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  #over(work: Watched, body: WorkBody): boolean {
    return (work.kind === 'response' ? RESPONSE_OVER : BATCH_OVER).has(String(body.status));
  }

  async #deployment(work: Watched): Promise<{ deployment: DeploymentRef; timeoutMs: number }> {
    const state = await gatewayState(this.env);
    const catalog = await currentCatalog(state, this.env as unknown as Record<string, unknown>, this.ctx, { missing: work.group });
    const deployment = deploymentById(catalog, work.deploymentId, work.group);
    // Not found may be a model store not read yet: asked again until the watch ends.
    if (!deployment) throw new Error(`deployment ${work.deploymentId} of ${work.group} not found`);
    return { deployment, timeoutMs: (state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000 };
  }

  /**
   * The provider's object (GET), or the object cancelled (POST). A 404 is taken as gone (null) only just
   * before the gateway deletes it (`gone`); otherwise it may be a deployment's changed credentials, and
   * is asked about again until the watch ends.
   */
  async #ask(work: Watched, method: 'GET' | 'POST', gone = false): Promise<WorkBody | null> {
    const { deployment, timeoutMs } = await this.#deployment(work);
    const adapter = PROVIDERS.get(deployment.provider);
    const env = this.env as unknown as Record<string, unknown>;
    const res = await (work.kind === 'response'
      ? adapter?.storedResponse?.({ deployment, env, method, responseId: work.id, suffix: method === 'POST' ? '/cancel' : '', query: [], timeoutMs })
      : adapter?.objectRequest?.({ deployment, env, method, path: `batches/${encodeURIComponent(work.id)}${method === 'POST' ? '/cancel' : ''}`, query: [], timeoutMs, ...(method === 'POST' ? { body: '{}' } : {}) })
    )?.catch((err: unknown) => {
      if (gone && err instanceof GatewayError && err.status === 404) return null;
      throw err;
    });
    if (res === undefined) throw new Error(`${deployment.provider} keeps no ${work.kind === 'response' ? 'stored responses' : 'batches'}`);
    return res && await res.json() as WorkBody;
  }

  /** Bills the work if it is over; true once billed (or over with nothing to bill). */
  async #bill(work: Watched, body: WorkBody): Promise<boolean> {
    if (body.id !== work.id) {
      console.error(`${work.kind} ${work.id}: the provider answered for ${String(body.id)}`);
      return false;
    }
    if (!this.#over(work, body)) return false;
    const { deployment, timeoutMs } = await this.#deployment(work);
    const measured = work.kind === 'response' ? responseUsage(work, body, deployment) : await this.#batchUsage(work, body, deployment, timeoutMs);
    // Over with nothing that ran (a batch that failed validation, a response cancelled while queued).
    if (!measured) return true;
    const state = await gatewayState(this.env);
    const billed = await billLaterWork(this.env, this.ctx, {
      id: work.id, callType: work.kind === 'response' ? 'aresponses' : 'aretrieve_batch', deployment, creator: work.creator, owner: work.owner, master: work.master,
      createdAt: Number(body.created_at) || Math.floor(work.trackedAt / 1000),
      completedAt: Number(body.completed_at) || Math.floor(Date.now() / 1000),
      globalBudget: hasGlobalBudget(state.config),
      ...(work.kind === 'response' ? { endUser: work.endUser, tags: work.tags } : {}),
    }, async () => measured);
    // An object does not outlive its work by a timer: the spend log goes now.
    if (billed) await flushSpendLogs(this.env);
    return billed;
  }

  /** A batch's usage and cost from its output file, read a line at a time; undefined when it left none. */
  async #batchUsage(work: WatchedBatch, body: WorkBody, deployment: DeploymentRef, timeoutMs: number) {
    if (typeof body.output_file_id !== 'string' || !body.output_file_id) return undefined;
    // An output can take far longer to read than a call's request_timeout allows.
    const output = await PROVIDERS.get(deployment.provider)?.objectRequest?.({
      deployment, env: this.env as unknown as Record<string, unknown>, method: 'GET', path: `files/${encodeURIComponent(body.output_file_id)}/content`, query: [],
      timeoutMs: Math.max(timeoutMs, OUTPUT_READ_MS),
    });
    return await batchOutputUsage(deployment, work.endpoint, output?.body ?? new ReadableStream());
  }

  #firstPoll(): number {
    // Tests wait seconds, not minutes (only in test mode: no config shortens it in production).
    return (this.env.TOLLGATE_TEST_MODE === '1' && Number(this.env.TOLLGATE_LATER_WORK_POLL_MS)) || POLL_FIRST_MS;
  }
}

/**
 * A response's usage and cost; where the provider reports none (a failed or cancelled one), the prompt
 * and what it wrote as the gateway estimates them. Undefined for one cancelled with nothing written (it
 * may never have run).
 */
function responseUsage(work: WatchedResponse, body: WorkBody, deployment: DeploymentRef): { usage: UsageReport; cost: number; metadata: Record<string, unknown> } | undefined {
  const output = responsesOutputText(body.output);
  const reported = readOpenAIUsage(body.usage);
  if (!reported && body.status === 'cancelled' && !output) return undefined;
  const usage = reported ?? estimatedUsage(work.promptTokenEstimate, output?.length ?? 0);
  return { usage, cost: costOfCall(deployment, usage), metadata: { background: true, status: body.status, ...(usage.reported ? {} : { usage_estimated: true }) } };
}

type WatcherStub = Pick<LaterWork, 'track' | 'seen' | 'lastLook' | 'forget'>;

function watcher(env: GatewayEnv, kind: Watched['kind'], deploymentId: string, id: string): WatcherStub | undefined {
  const ns = env.LATER_WORK;
  return ns ? ns.get(ns.idFromName(`${kind}:${deploymentId}:${id}`)) as unknown as WatcherStub : undefined;
}

/**
 * Starts the watch on work the gateway just asked a provider for, before the client gets its id (tried
 * twice, each with a stub of its own). When it cannot, the work is cancelled (it would run unbilled) and
 * the call's error is returned.
 */
export async function watchLaterWork(env: GatewayEnv, ctx: WaitUntil, deployment: DeploymentRef, work: Watched, timeoutMs: number): Promise<GatewayError | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const stub = watcher(env, work.kind, work.deploymentId, work.id);
    if (!stub) break;
    try {
      await stub.track(work);
      return undefined;
    } catch (err) {
      console.error(`${work.kind} ${work.id}: watch not started (attempt ${attempt + 1}):`, err instanceof Error ? err.message : String(err));
    }
  }
  ctx.waitUntil(cancelUnwatched(env, deployment, work, timeoutMs));
  const what = work.kind === 'response' ? 'background response' : 'batch';
  return new GatewayError(`The ${what} could not be watched for billing, so it was cancelled: try again`, { status: 503, type: 'service_unavailable_error' });
}

/** A watch half started is dropped, and the work cancelled. */
async function cancelUnwatched(env: GatewayEnv, deployment: DeploymentRef, work: Watched, timeoutMs: number): Promise<void> {
  await watcher(env, work.kind, work.deploymentId, work.id)?.forget().catch(() => undefined);
  const adapter = PROVIDERS.get(deployment.provider);
  const providerEnv = env as unknown as Record<string, unknown>;
  try {
    await (work.kind === 'response'
      ? adapter?.storedResponse?.({ deployment, env: providerEnv, method: 'POST', responseId: work.id, suffix: '/cancel', query: [], timeoutMs })
      : adapter?.objectRequest?.({ deployment, env: providerEnv, method: 'POST', path: `batches/${encodeURIComponent(work.id)}/cancel`, query: [], body: '{}', timeoutMs }));
  } catch (err) {
    console.error(`${work.kind.toUpperCase()} NOT BILLED: ${work.id} could be neither watched nor cancelled:`, err instanceof Error ? err.message : String(err));
  }
}

/** A read through the gateway saw the work: its watcher bills it now if it is over. */
export async function laterWorkSeen(env: GatewayEnv, kind: Watched['kind'], deploymentId: string, id: string, body: WorkBody): Promise<void> {
  await watcher(env, kind, deploymentId, id)?.seen(body);
}

/**
 * Before a response is deleted through the gateway: its watcher bills it (cancelled first, if still
 * running). False when it could not: the response must not be deleted yet.
 */
export async function laterWorkDeleted(env: GatewayEnv, deploymentId: string, responseId: string): Promise<boolean> {
  const stub = watcher(env, 'response', deploymentId, responseId);
  if (!stub) return true;
  return await stub.lastLook().catch((err: unknown) => {
    console.error(`response ${responseId}: last look failed:`, err instanceof Error ? err.message : String(err));
    return false;
  });
}

