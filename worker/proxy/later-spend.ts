import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { linked } from '../limits/key-routes.ts';
import { describeEntity, describeKey } from '../limits/key-store.ts';
import { limiter, type Target } from '../limits/local-leases.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { cutLine, forEachLine } from '../openai/batch-lines.ts';
import { readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { ownerNamed } from '../providers/response-ids.ts';
import type { UsageReport } from '../providers/types.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import { recordSpend, type SpendLogRecord } from '../telemetry/spend-log.ts';
import { log } from '../telemetry/log.ts';

/**
 * Work a provider finished after the call that asked for it (a batch, a background response), billed
 * when the gateway first sees it done: one spend row, and the same cost into the limiters of the key
 * that asked and what it brings in (team, organization, user, the proxy-wide budget).
 */
export interface LaterWork {
  /** The provider's id of the work: the spend row's request_id and the limiters' once-only id. */
  id: string;
  callType: 'aretrieve_batch' | 'aresponses';
  deployment: DeploymentRef;
  /** The hash of the key that asked (the master key's included): the spend row's api_key. */
  creator: string;
  /** Whom it belongs to (responseOwner): billed when the key that asked is gone. */
  owner: string;
  master: boolean;
  /** Epoch seconds. */
  createdAt: number;
  completedAt: number;
  globalBudget: boolean;
  /** The call's end user and tags (a background response's), for its row and the end user's budget. */
  endUser?: string | null;
  tags?: string[];
}

/**
 * Bills the work as measured: its watcher (jobs/later-work.ts) calls this once the work is over, and
 * the spend log and the limiters count an id once however often it comes. Never throws: a failure is
 * logged and answered false (the watcher tries again).
 */
export async function billLaterWork(env: GatewayEnv, ctx: WaitUntil, work: LaterWork, measured: { usage: UsageReport; cost: number; metadata: Record<string, unknown> }): Promise<boolean> {
  try {
    const { usage, cost, metadata } = measured;
    const payer = await whoPays(env, work);
    if (work.globalBudget) payer.targets.push({ kind: 'global', id: 'proxy' });
    if (work.endUser) payer.targets.push({ kind: 'end_user', id: work.endUser });
    const { deployment } = work;
    const record: SpendLogRecord = {
      request_id: work.id,
      call_type: work.callType,
      api_key: payer.token,
      spend: cost,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
      cache_read_input_tokens: usage.cachedPromptTokens,
      cache_creation_input_tokens: 0,
      startTime: new Date(work.createdAt * 1000).toISOString(),
      endTime: new Date(work.completedAt * 1000).toISOString(),
      completionStartTime: null,
      request_duration_ms: Math.max(0, (work.completedAt - work.createdAt) * 1000),
      model: deployment.model,
      model_id: deployment.id,
      model_group: deployment.group,
      custom_llm_provider: deployment.provider,
      api_base: '',
      user: payer.userId ?? '',
      metadata: {
        user_api_key_alias: payer.alias, user_api_key_user_id: payer.userId, user_api_key_team_id: payer.teamId,
        user_api_key_org_id: payer.organizationId, ...metadata,
      },
      cache_hit: false,
      cache_key: null,
      request_tags: work.tags ?? [],
      team_id: payer.teamId,
      organization_id: payer.organizationId,
      end_user: work.endUser ?? null,
      messages: null,
      response: null,
      session_id: null,
      status: 'success',
      error_type: null,
    };
    recordSpend(env, ctx, record);
    await Promise.all(payer.targets.map((t) => limiter(env, t.kind, t.id).addSpend({ kind: t.kind, id: t.id, requestId: work.id, model: deployment.group, cost })));
    return true;
  } catch (err) {
    log.error(`${work.callType} ${work.id}: spend not recorded:`, err instanceof Error ? err.message : String(err));
    return false;
  }
}

interface Payer {
  token: string;
  alias: string | null;
  teamId: string | null;
  organizationId: string | null;
  userId: string | null;
  targets: Target[];
}

/** The key that asked, or the key that replaced it if it was regenerated since, or its team (else user) if it was deleted. */
async function whoPays(env: GatewayEnv, work: LaterWork): Promise<Payer> {
  if (work.master) return { token: work.creator, alias: null, teamId: null, organizationId: null, userId: null, targets: [] };
  const { token, key } = await describeKey(env, work.creator);
  const exists = key?.exists === true;
  const route = exists ? { teamId: key.teamId, organizationId: key.organizationId, userId: key.userId } : { ...ownerNamed(work.owner), organizationId: null };
  const team = route.teamId ? await describeEntity(env, 'team', route.teamId) : undefined;
  return {
    token,
    alias: exists ? key.alias : null,
    teamId: route.teamId,
    organizationId: route.organizationId ?? team?.organizationId ?? null,
    userId: route.userId,
    targets: [...(exists ? [{ kind: 'key', id: token } as Target] : []), ...linked(route, team)],
  };
}

/** OpenAI's and Azure's batch price: half the model's, unless the deployment prices its batches itself. */
const BATCH_DISCOUNT = 0.5;

/**
 * A finished batch's usage and cost: its output read a line at a time (an output can be far larger than
 * a Worker's memory), each answered line priced as the deployment (the upload set each line's model to its).
 */
export async function batchOutputUsage(deployment: DeploymentRef, endpoint: string, output: ReadableStream<Uint8Array>): Promise<{ usage: UsageReport; cost: number; metadata: Record<string, unknown> }> {
  const usage: UsageReport = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  let cost = 0;
  let lines = 0;
  await forEachLine(output, (line, _n, cut) => {
    if (!cut && !line.trim()) return;
    let parsed: { response?: { status_code?: unknown; body?: { usage?: unknown } } | null };
    try {
      parsed = cut ? cutLine(cut) : JSON.parse(line) as typeof parsed;
    } catch {
      return;
    }
    const report = parsed?.response?.status_code === 200 ? readOpenAIUsage(parsed.response.body?.usage) : undefined;
    if (!report) return;
    lines++;
    cost += batchCost(deployment, report);
    usage.promptTokens += report.promptTokens;
    usage.completionTokens += report.completionTokens;
    usage.cachedPromptTokens += report.cachedPromptTokens;
    // The provider's own output: a byte it got wrong costs one line, not the batch's bill.
  }, false);
  return { usage, cost, metadata: { batch_endpoint: endpoint, batch_requests: lines } };
}

/** A line's cost: the deployment's batch prices (`input_cost_per_token_batches`, `output_cost_per_token_batches`), else half its price. */
function batchCost(deployment: DeploymentRef, usage: UsageReport): number {
  // model_info over litellm_params, as costOfCall reads them.
  const prices = { ...deployment.params, ...deployment.info } as Record<string, unknown>;
  const input = prices.input_cost_per_token_batches;
  const output = prices.output_cost_per_token_batches;
  if (typeof input === 'number' && typeof output === 'number') return usage.promptTokens * input + usage.completionTokens * output;
  return costOfCall(deployment, usage) * BATCH_DISCOUNT;
}
