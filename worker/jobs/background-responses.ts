import { DurableObject } from 'cloudflare:workers';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { currentCatalog } from '../models/catalog.ts';
import { readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { DEFAULT_TIMEOUT_S } from '../proxy/call-helpers.ts';
import { billLaterWork } from '../proxy/later-spend.ts';
import { hasGlobalBudget } from '../proxy/call-admission.ts';
import { flushSpendLogs } from '../telemetry/spend-log.ts';
import { gatewayState } from '../state.ts';

/** A background response the gateway created, until it is billed. */
export interface TrackedResponse {
  deploymentId: string;
  /** The provider's id. */
  responseId: string;
  /** The hash of the key that asked (the master key's included), whom it belongs to (responseOwner), and whether it was the master key. */
  creator: string;
  owner: string;
  master: boolean;
  endUser: string | null;
  tags: string[];
  /** Epoch ms. */
  trackedAt: number;
}

/** A background response over: its usage is final (a cancelled one's, what ran). */
const FINISHED = new Set(['completed', 'incomplete', 'failed', 'cancelled']);
/** First look after POLL_FIRST_MS, then twice as long each time up to POLL_MAX_MS; given up after GIVE_UP_MS (a provider keeps a response 30 days). */
const POLL_FIRST_MS = 30_000;
const POLL_MAX_MS = 10 * 60_000;
const GIVE_UP_MS = 30 * 86_400_000;

/**
 * One object per background response (`background: true`) the gateway created: it asks the provider
 * (with an alarm, less often as time goes on) until the response is over, then bills its usage to the
 * key that asked, once, whether or not the client ever reads it (a follow-up could use it unread). A
 * read or cancel through the gateway that sees it over bills it at once (`seen`).
 */
export class BackgroundResponses extends DurableObject<GatewayEnv> {
  async track(work: TrackedResponse): Promise<void> {
    if (await this.ctx.storage.get('work')) return;
    await this.ctx.storage.put({ work, wait: this.#firstPoll() });
    await this.ctx.storage.setAlarm(Date.now() + this.#firstPoll());
  }

  /** The response as a read through the gateway just got it: billed now when it is over. */
  async seen(response: unknown): Promise<void> {
    const work = await this.ctx.storage.get<TrackedResponse>('work');
    if (work && (await this.#bill(work, response))) await this.ctx.storage.deleteAll();
  }

  /** The response is about to be deleted through the gateway: billed now if it is over (it cannot be read after). */
  async lastLook(): Promise<void> {
    const work = await this.ctx.storage.get<TrackedResponse>('work');
    if (!work) return;
    const response = await this.#read(work).catch(() => undefined);
    if (response && FINISHED.has(String((response as { status?: unknown }).status))) {
      // Not billed this time: kept, for the alarm to try again.
      if (!(await this.#bill(work, response))) return;
    } else if (response) {
      console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId} was deleted while still running`);
    }
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const work = await this.ctx.storage.get<TrackedResponse>('work');
    if (!work) return;
    let response: unknown;
    try {
      response = await this.#read(work);
    } catch (err) {
      console.error(`background response ${work.responseId}: could not be read, asked again later:`, err instanceof Error ? err.message : String(err));
    }
    if (response === null || (response !== undefined && (await this.#bill(work, response)))) {
      await this.ctx.storage.deleteAll();
      return;
    }
    if (Date.now() - work.trackedAt > GIVE_UP_MS) {
      console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId} (deployment ${work.deploymentId}) was not over after 30 days`);
      await this.ctx.storage.deleteAll();
      return;
    }
    const wait = Math.min(POLL_MAX_MS, ((await this.ctx.storage.get<number>('wait')) ?? this.#firstPoll()) * 2);
    await this.ctx.storage.put('wait', wait);
    await this.ctx.storage.setAlarm(Date.now() + wait);
  }

  /** The provider's response; null when there is nothing left to bill (its deployment or the response is gone). */
  async #read(work: TrackedResponse): Promise<unknown> {
    const state = await gatewayState(this.env);
    const catalog = await currentCatalog(state, this.env as unknown as Record<string, unknown>, this.ctx);
    const deployment = [...catalog.groups.values()].flat().find((d) => d.id === work.deploymentId);
    const adapter = deployment && PROVIDERS.get(deployment.provider);
    if (!deployment || !adapter?.storedResponse) {
      console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId}: deployment ${work.deploymentId} no longer exists`);
      return null;
    }
    const res = await adapter.storedResponse({
      deployment, env: this.env as unknown as Record<string, unknown>, method: 'GET', responseId: work.responseId, suffix: '', query: [],
      timeoutMs: (state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000,
    }).catch((err: unknown) => {
      // Deleted by its owner before it was seen over: nothing to read the usage from.
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    });
    if (!res) {
      console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId} was deleted before it was seen over`);
      return null;
    }
    return await res.json();
  }

  /** Bills the response if it is over; true once billed (or over with nothing to bill). */
  async #bill(work: TrackedResponse, body: unknown): Promise<boolean> {
    const response = body as { id?: unknown; status?: unknown; usage?: unknown; created_at?: unknown; completed_at?: unknown } | null;
    if (!response || response.id !== work.responseId || !FINISHED.has(String(response.status))) return false;
    const usage = readOpenAIUsage(response.usage as Parameters<typeof readOpenAIUsage>[0]);
    if (!usage) return true;
    const state = await gatewayState(this.env);
    const catalog = await currentCatalog(state, this.env as unknown as Record<string, unknown>, this.ctx);
    const deployment = [...catalog.groups.values()].flat().find((d) => d.id === work.deploymentId);
    if (!deployment) return true;
    const billed = await billLaterWork(this.env, this.ctx, {
      id: work.responseId, callType: 'aresponses', deployment, creator: work.creator, owner: work.owner, master: work.master,
      createdAt: Number(response.created_at) || Math.floor(work.trackedAt / 1000),
      completedAt: Number(response.completed_at) || Math.floor(Date.now() / 1000),
      globalBudget: hasGlobalBudget(state.config), endUser: work.endUser, tags: work.tags,
    }, async () => ({ usage, cost: costOfCall(deployment, usage), metadata: { background: true, status: response.status } }));
    // An object does not outlive its alarm by a timer: the spend log goes now.
    if (billed) await flushSpendLogs(this.env);
    return billed;
  }

  #firstPoll(): number {
    // Tests wait seconds, not minutes.
    return Number(this.env.TOLLGATE_BACKGROUND_POLL_MS) || POLL_FIRST_MS;
  }
}

type TrackerStub = Pick<BackgroundResponses, 'track' | 'seen' | 'lastLook'>;

function tracker(env: GatewayEnv, deploymentId: string, responseId: string): TrackerStub | undefined {
  const ns = env.BACKGROUND_RESPONSES;
  return ns ? ns.get(ns.idFromName(`${deploymentId}:${responseId}`)) as unknown as TrackerStub : undefined;
}

/**
 * Starts the watch on a background response the gateway just created; awaited before the client gets
 * its id (tried twice). A failure is logged loudly: the provider already runs it.
 */
export async function trackBackgroundResponse(env: GatewayEnv, work: TrackedResponse): Promise<void> {
  const stub = tracker(env, work.deploymentId, work.responseId);
  if (!stub) {
    console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId}: no BACKGROUND_RESPONSES binding`);
    return;
  }
  try {
    await stub.track(work).catch(() => stub.track(work));
  } catch (err) {
    console.error(`BACKGROUND RESPONSE NOT BILLED: ${work.responseId} could not be tracked:`, err instanceof Error ? err.message : String(err));
  }
}

/** A read through the gateway saw the response: its watcher bills it now if it is over. */
export async function backgroundResponseSeen(env: GatewayEnv, deploymentId: string, responseId: string, response: unknown): Promise<void> {
  await tracker(env, deploymentId, responseId)?.seen(response);
}

/** Before a response is deleted through the gateway: its watcher bills it if it is over. */
export async function backgroundResponseDeleted(env: GatewayEnv, deploymentId: string, responseId: string): Promise<void> {
  await tracker(env, deploymentId, responseId)?.lastLook().catch((err: unknown) => console.error(`background response ${responseId}: last look failed:`, err instanceof Error ? err.message : String(err)));
}
