import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import type { AdmitResult, EntityView } from '../limits/entity-view.ts';
import { forEachLine } from '../openai/batch-lines.ts';
import { linked } from '../limits/key-routes.ts';
import { limiter, type Target } from '../limits/local-leases.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import type { UsageReport } from '../providers/types.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import { recordSpend, type SpendLogRecord } from '../telemetry/spend-log.ts';

/** OpenAI's and Azure's batch price: half the model's, unless the deployment prices its batches itself. */
const BATCH_DISCOUNT = 0.5;

export interface FinishedBatch {
  /** The provider's id: the spend row's request_id, so a batch seen done again is billed once. */
  upstreamId: string;
  endpoint: string;
  createdAt: number;
  completedAt: number;
  /** The hash of the key that created it (the master key's included), from the batch's metadata: the spend row's api_key. */
  creator: string;
  /** Whom it belongs to (responseOwner): billed when the key that created it is gone. */
  owner: string;
  master: boolean;
  /** Reads the output file (JSONL), a stream. */
  output(): Promise<ReadableStream<Uint8Array>>;
}

/**
 * Bills a finished batch to the key that created it: the output's usage, line by line, at the
 * deployment's batch price, as one spend row (its Langfuse trace and metrics are not sent),
 * and into the limiters of the key and what it brings in (team, organization, user, the proxy-wide
 * budget), each counting it once however often the batch is read. Never throws: a failure is logged.
 */
export async function billBatch(env: GatewayEnv, ctx: WaitUntil, home: DeploymentRef, batch: FinishedBatch, globalBudget: boolean): Promise<void> {
  // Read again (a client polls; a list names it again): this isolate does not read its output twice.
  const seen = `${home.id} ${batch.upstreamId}`;
  if (billed.has(seen)) return;
  if (billed.size >= BILLED_MAX) billed.delete(billed.values().next().value as string);
  billed.add(seen);
  try {
    const total = await outputUsage(home, await batch.output());
    const targets: Target[] = [];
    let view: EntityView | undefined;
    let teamId: string | null = null;
    let organizationId: string | null = null;
    let userId: string | null = null;
    let token = batch.creator;
    if (!batch.master) {
      let described = await limiter(env, 'key', token).describe('key', token);
      // A key regenerated since: its spend goes to the key that replaced it, as its calls' would.
      if (described.ok === 'redirect') described = await limiter(env, 'key', (token = described.token)).describe('key', token);
      view = viewIn(described);
      // A key deleted since: its team (or user), which it belonged to, still pays.
      const route = view?.exists ? { teamId: view.teamId, organizationId: view.organizationId, userId: view.userId } : ownerRoute(batch.owner);
      if (view?.exists) targets.push({ kind: 'key', id: token });
      else view = undefined;
      const team = route.teamId ? viewIn(await limiter(env, 'team', route.teamId).describe('team', route.teamId)) : undefined;
      targets.push(...linked(route, team));
      teamId = route.teamId;
      organizationId = route.organizationId ?? team?.organizationId ?? null;
      userId = route.userId;
    }
    if (globalBudget) targets.push({ kind: 'global', id: 'proxy' });
    const record: SpendLogRecord = {
      request_id: batch.upstreamId,
      call_type: 'aretrieve_batch',
      api_key: token,
      spend: total.cost,
      prompt_tokens: total.usage.promptTokens,
      completion_tokens: total.usage.completionTokens,
      total_tokens: total.usage.promptTokens + total.usage.completionTokens,
      cache_read_input_tokens: total.usage.cachedPromptTokens,
      cache_creation_input_tokens: 0,
      startTime: new Date(batch.createdAt * 1000).toISOString(),
      endTime: new Date(batch.completedAt * 1000).toISOString(),
      completionStartTime: null,
      request_duration_ms: Math.max(0, (batch.completedAt - batch.createdAt) * 1000),
      model: home.model,
      model_id: home.id,
      model_group: home.group,
      custom_llm_provider: home.provider,
      api_base: '',
      user: userId ?? '',
      metadata: {
        user_api_key_alias: view?.alias ?? null, user_api_key_user_id: userId, user_api_key_team_id: teamId,
        user_api_key_org_id: organizationId, batch_endpoint: batch.endpoint, batch_requests: total.lines,
      },
      cache_hit: false,
      cache_key: null,
      request_tags: [],
      team_id: teamId,
      organization_id: organizationId,
      end_user: null,
      messages: null,
      response: null,
      session_id: null,
      status: 'success',
      error_type: null,
    };
    recordSpend(env, ctx, record);
    await Promise.all(targets.map((t) => limiter(env, t.kind, t.id).addSpend({ kind: t.kind, id: t.id, requestId: batch.upstreamId, model: home.group, cost: total.cost })));
  } catch (err) {
    // Tried again when next seen.
    billed.delete(seen);
    console.error(`batch ${batch.upstreamId}: spend not recorded:`, err instanceof Error ? err.message : String(err));
  }
}

/** Batches this isolate billed (the spend log and the limiters count each once anyway). */
const billed = new Set<string>();
const BILLED_MAX = 10_000;

/** The team or user an owner (responseOwner) names. */
function ownerRoute(owner: string): { teamId: string | null; organizationId: string | null; userId: string | null } {
  const [kind, id] = [owner.slice(0, owner.indexOf(':')), owner.slice(owner.indexOf(':') + 1)];
  const named = (() => {
    try {
      return decodeURIComponent(id);
    } catch {
      return null;
    }
  })();
  return { teamId: kind === 'team' ? named : null, organizationId: null, userId: kind === 'user' ? named : null };
}

const viewIn = (result: AdmitResult): EntityView | undefined => ('view' in result ? result.view : undefined);

/** The output's usage and cost, read a line at a time; every line priced as the deployment (the upload set each line's model to its). */
async function outputUsage(home: DeploymentRef, output: ReadableStream<Uint8Array>): Promise<{ usage: UsageReport; cost: number; lines: number }> {
  const usage: UsageReport = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  let cost = 0;
  let lines = 0;
  await forEachLine(output, (line) => {
    if (!line.trim()) return;
    let parsed: { response?: { status_code?: unknown; body?: { usage?: unknown } } | null };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return;
    }
    const report = parsed?.response?.status_code === 200 ? readOpenAIUsage(parsed.response.body?.usage as Parameters<typeof readOpenAIUsage>[0]) : undefined;
    if (!report) return;
    lines++;
    cost += batchCost(home, report);
    usage.promptTokens += report.promptTokens;
    usage.completionTokens += report.completionTokens;
    usage.cachedPromptTokens += report.cachedPromptTokens;
  });
  return { usage, cost, lines };
}

/** A line's cost: the deployment's batch prices (`input_cost_per_token_batches`, `output_cost_per_token_batches`), else half its price. */
function batchCost(deployment: DeploymentRef, usage: UsageReport): number {
  const prices = { ...deployment.info, ...deployment.params } as Record<string, unknown>;
  const input = prices.input_cost_per_token_batches;
  const output = prices.output_cost_per_token_batches;
  if (typeof input === 'number' && typeof output === 'number') return usage.promptTokens * input + usage.completionTokens * output;
  return costOfCall(deployment, usage) * BATCH_DISCOUNT;
}
