import { DurableObject } from 'cloudflare:workers';
import { withConfigEnv } from '../config/config-env.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { LATER_WORK_BILLED_FOR_MS } from '../limits/counters.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, deploymentById } from '../models/deployments.ts';
import { deploymentByStoredId } from '../router/resolve-group.ts';
import { hasGlobalBudget } from '../proxy/call-admission.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { billLaterWork } from '../proxy/later-spend.ts';
import { gatewayState } from '../state.ts';
import { flushSpendLogs } from '../telemetry/spend-log.ts';
import { askProvider, isOver, measureWork, type Watched, type WorkBody } from './provider-work.ts';
import { log } from '../telemetry/log.ts';

/** First look after POLL_FIRST_MS, then twice as long each time up to POLL_MAX_MS, until LATER_WORK_BILLED_FOR_MS has passed. */
const POLL_FIRST_MS = 30_000;
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
      if (body && !isOver(work, body)) {
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
        log.error(`${work.kind} ${work.id}: not billed yet, asked again later:`, err instanceof Error ? err.message : String(err));
      }
      if (Date.now() - work.trackedAt > LATER_WORK_BILLED_FOR_MS) {
        log.error(`${work.kind.toUpperCase()} NOT BILLED: ${work.id} (deployment ${work.deploymentId}) was not seen over in 30 days`);
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

  async #deployment(work: Watched): Promise<{ deployment: DeploymentRef; timeoutMs: number }> {
    const state = await gatewayState(this.env);
    const catalog = await currentCatalog(state, this.env as unknown as Record<string, unknown>, this.ctx, { missing: work.group });
    // A wildcard group's deployment (`openai/*`) is made concrete again for the model the work was created with.
    const deployment = deploymentById(catalog, work.deploymentId, work.group) ?? deploymentByStoredId(catalog, work.deploymentId)?.deployment;
    // Not found may be a model store not read yet: asked again until the watch ends.
    if (!deployment) throw new Error(`deployment ${work.deploymentId} of ${work.group} not found`);
    return { deployment, timeoutMs: requestTimeoutMs(state.config) };
  }

  /**
   * The provider's object (GET), or the object cancelled (POST). A 404 is taken as gone (null) only just
   * before the gateway deletes it (`gone`); otherwise it may be a deployment's changed credentials, and
   * is asked about again until the watch ends.
   */
  async #ask(work: Watched, method: 'GET' | 'POST', gone = false): Promise<WorkBody | null> {
    const { deployment, timeoutMs } = await this.#deployment(work);
    const res = await askProvider(this.env, deployment, work, method, timeoutMs)?.catch((err: unknown) => {
      if (gone && err instanceof GatewayError && err.status === 404) return null;
      throw err;
    });
    if (res === undefined) throw new Error(`${deployment.provider} keeps no ${work.kind === 'response' ? 'stored responses' : 'batches'}`);
    return res && await res.json() as WorkBody;
  }

  /** Bills the work if it is over; true once billed (or over with nothing to bill). */
  async #bill(work: Watched, body: WorkBody): Promise<boolean> {
    if (body.id !== work.id) {
      log.error(`${work.kind} ${work.id}: the provider answered for ${String(body.id)}`);
      return false;
    }
    if (!isOver(work, body)) return false;
    const { deployment, timeoutMs } = await this.#deployment(work);
    const measured = await measureWork(this.env, work, body, deployment, timeoutMs);
    // Over with nothing that ran (a batch that failed validation, a response cancelled while queued).
    if (!measured) return true;
    const state = await gatewayState(this.env);
    const billed = await billLaterWork(this.env, this.ctx, {
      id: work.id, callType: work.kind === 'response' ? 'aresponses' : 'aretrieve_batch', deployment, creator: work.creator, owner: work.owner, master: work.master,
      createdAt: Number(body.created_at) || Math.floor(work.trackedAt / 1000),
      completedAt: Number(body.completed_at) || Math.floor(Date.now() / 1000),
      globalBudget: hasGlobalBudget(state.config),
      ...(work.kind === 'response' ? { endUser: work.endUser, tags: work.tags } : {}),
    }, measured);
    // An object does not outlive its work by a timer: the spend log goes now.
    if (billed) await flushSpendLogs(this.env);
    return billed;
  }

  #firstPoll(): number {
    // Tests wait seconds, not minutes (only in test mode: no config shortens it in production).
    return (this.env.TOLLGATE_TEST_MODE === '1' && Number(this.env.TOLLGATE_LATER_WORK_POLL_MS)) || POLL_FIRST_MS;
  }
}
