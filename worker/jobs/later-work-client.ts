import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import type { LaterWork } from './later-work.ts';
import { askProvider, type Watched, type WorkBody } from './provider-work.ts';
import { log } from '../telemetry/log.ts';

/** The calls' side of the LaterWork objects (later-work.ts): one object per piece of work, named `kind:deployment:id`. */

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
      log.error(`${work.kind} ${work.id}: watch not started (attempt ${attempt + 1}):`, err instanceof Error ? err.message : String(err));
    }
  }
  ctx.waitUntil(cancelUnwatched(env, deployment, work, timeoutMs));
  const what = work.kind === 'response' ? 'background response' : 'batch';
  return new GatewayError(`The ${what} could not be watched for billing, so it was cancelled: try again`, { status: 503, type: 'service_unavailable_error' });
}

/** A watch half started is dropped, and the work cancelled. */
async function cancelUnwatched(env: GatewayEnv, deployment: DeploymentRef, work: Watched, timeoutMs: number): Promise<void> {
  await watcher(env, work.kind, work.deploymentId, work.id)?.forget().catch(() => undefined);
  try {
    await askProvider(env, deployment, work, 'POST', timeoutMs);
  } catch (err) {
    log.error(`${work.kind.toUpperCase()} NOT BILLED: ${work.id} could be neither watched nor cancelled:`, err instanceof Error ? err.message : String(err));
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
    log.error(`response ${responseId}: last look failed:`, err instanceof Error ? err.message : String(err));
    return false;
  });
}

