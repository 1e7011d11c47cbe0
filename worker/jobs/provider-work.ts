import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { responsesOutputText } from '../providers/openai-compatible/answers.ts';
import { estimatedUsage, readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { PROVIDERS } from '../providers/registry.ts';
import type { UsageReport } from '../providers/types.ts';
import { batchOutputUsage } from '../proxy/later-spend.ts';

/**
 * Work a provider does after the call that asked for it (a background response, a batch): what the
 * gateway keeps of it, and how it asks the provider about it and measures it once it is over.
 */

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
interface WatchedResponse extends WatchedBase {
  kind: 'response';
  /** The provider's id. */
  id: string;
  endUser: string | null;
  tags: string[];
  /** The prompt's tokens as the gateway estimated them: billed with the output's text when the provider reports no usage. */
  promptTokenEstimate: number;
}

/** A batch (`POST /v1/batches`). */
interface WatchedBatch extends WatchedBase {
  kind: 'batch';
  /** The provider's id. */
  id: string;
  endpoint: string;
}

export type Watched = WatchedResponse | WatchedBatch;

/** A provider's response or batch object, as far as the watcher reads it. */
export interface WorkBody {
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
/** Time to read a batch's output file: within the 15 minutes an alarm may run, with room for the rest. */
const OUTPUT_READ_MS = 11 * 60_000;

type Measured = { usage: UsageReport; cost: number; metadata: Record<string, unknown> };

export function isOver(work: Watched, body: WorkBody): boolean {
  return (work.kind === 'response' ? RESPONSE_OVER : BATCH_OVER).has(String(body.status));
}

/** The provider's object (GET), or the object cancelled (POST); undefined for a provider that keeps no such objects. */
export function askProvider(env: GatewayEnv, deployment: DeploymentRef, work: Watched, method: 'GET' | 'POST', timeoutMs: number): Promise<Response> | undefined {
  const adapter = PROVIDERS.get(deployment.provider);
  const providerEnv = env as unknown as Record<string, unknown>;
  const cancel = method === 'POST' ? '/cancel' : '';
  return work.kind === 'response'
    ? adapter?.storedResponse?.({ deployment, env: providerEnv, method, responseId: work.id, suffix: cancel, query: [], timeoutMs })
    : adapter?.objectRequest?.({ deployment, env: providerEnv, method, path: `batches/${encodeURIComponent(work.id)}${cancel}`, query: [], timeoutMs, ...(method === 'POST' ? { body: '{}' } : {}) });
}

/** What work over used and costs; undefined when nothing ran (a batch that left no output, a response cancelled while queued). */
export async function measureWork(env: GatewayEnv, work: Watched, body: WorkBody, deployment: DeploymentRef, timeoutMs: number): Promise<Measured | undefined> {
  if (work.kind === 'response') return responseUsage(work, body, deployment);
  if (typeof body.output_file_id !== 'string' || !body.output_file_id) return undefined;
  // An output can take far longer to read than a call's request_timeout allows.
  const output = await PROVIDERS.get(deployment.provider)?.objectRequest?.({
    deployment, env: env as unknown as Record<string, unknown>, method: 'GET', path: `files/${encodeURIComponent(body.output_file_id)}/content`, query: [],
    timeoutMs: Math.max(timeoutMs, OUTPUT_READ_MS),
  });
  return await batchOutputUsage(deployment, work.endpoint, output?.body ?? new ReadableStream());
}

/**
 * A response's usage and cost; where the provider reports none (a failed or cancelled one), the prompt
 * and what it wrote as the gateway estimates them. Undefined for one cancelled with nothing written (it
 * may never have run).
 */
function responseUsage(work: WatchedResponse, body: WorkBody, deployment: DeploymentRef): Measured | undefined {
  const output = responsesOutputText(body.output);
  const reported = readOpenAIUsage(body.usage);
  if (!reported && body.status === 'cancelled' && !output) return undefined;
  const usage = reported ?? estimatedUsage(work.promptTokenEstimate, output?.length ?? 0);
  return { usage, cost: costOfCall(deployment, usage), metadata: { background: true, status: body.status, ...(usage.reported ? {} : { usage_estimated: true }) } };
}
