import { costOfCall, deploymentPrice } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import type { AdmitResult, EntityView } from '../limits/entity-view.ts';
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
  master: boolean;
  /** Reads the output file (JSONL), a stream. */
  output(): Promise<ReadableStream<Uint8Array>>;
}

/**
 * Bills a finished batch to the key that created it: the output's usage, line by line, at the batch
 * price of the model each line names, as one spend row (its Langfuse trace and metrics are not sent),
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
    if (!batch.master) {
      view = viewIn(await limiter(env, 'key', batch.creator).describe('key', batch.creator));
      if (view?.exists) {
        const team = view.teamId ? viewIn(await limiter(env, 'team', view.teamId).describe('team', view.teamId)) : undefined;
        targets.push({ kind: 'key', id: batch.creator }, ...linked({ teamId: view.teamId, organizationId: view.organizationId, userId: view.userId }, team));
      }
    }
    if (globalBudget) targets.push({ kind: 'global', id: 'proxy' });
    const record: SpendLogRecord = {
      request_id: batch.upstreamId,
      call_type: 'aretrieve_batch',
      api_key: batch.creator,
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
      user: view?.userId ?? '',
      metadata: {
        user_api_key_alias: view?.alias ?? null, user_api_key_user_id: view?.userId ?? null, user_api_key_team_id: view?.teamId ?? null,
        user_api_key_org_id: view?.organizationId ?? null, batch_endpoint: batch.endpoint, batch_requests: total.lines,
      },
      cache_hit: false,
      cache_key: null,
      request_tags: [],
      team_id: view?.teamId ?? null,
      organization_id: view?.organizationId ?? null,
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

const viewIn = (result: AdmitResult): EntityView | undefined => ('view' in result ? result.view : undefined);

/** The output's usage and cost, read a line at a time (an output can be far larger than a Worker's memory). */
async function outputUsage(home: DeploymentRef, output: ReadableStream<Uint8Array>): Promise<{ usage: UsageReport; cost: number; lines: number }> {
  const usage: UsageReport = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  const byModel = new Map<string, DeploymentRef>();
  let cost = 0;
  let lines = 0;
  const add = (line: string) => {
    if (!line.trim()) return;
    let parsed: { response?: { status_code?: unknown; body?: { model?: unknown; usage?: unknown } } | null };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return;
    }
    const body = parsed.response?.body;
    const report = parsed.response?.status_code === 200 ? readOpenAIUsage(body?.usage as Parameters<typeof readOpenAIUsage>[0]) : undefined;
    if (!report) return;
    lines++;
    const model = typeof body?.model === 'string' && body.model ? body.model : home.model;
    let priced = byModel.get(model);
    if (!priced) byModel.set(model, (priced = linePricing(home, model)));
    cost += batchCost(priced, report);
    usage.promptTokens += report.promptTokens;
    usage.completionTokens += report.completionTokens;
    usage.cachedPromptTokens += report.cachedPromptTokens;
  };
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) add(line);
  }
  add(rest + decoder.decode());
  return { usage, cost, lines };
}

/**
 * What a line is priced as: the model it names (a batch may name any model of an OpenAI account), unless
 * the deployment says what it is (`base_model`: an Azure deployment's name prices nothing) or the name
 * has no price.
 */
function linePricing(home: DeploymentRef, model: string): DeploymentRef {
  if (model === home.model || home.info.base_model) return home;
  const named = { ...home, model };
  return deploymentPrice(named) ? named : home;
}

/** A line's cost: the deployment's batch prices (`input_cost_per_token_batches`, `output_cost_per_token_batches`), else half its price. */
function batchCost(deployment: DeploymentRef, usage: UsageReport): number {
  const prices = { ...deployment.info, ...deployment.params } as Record<string, unknown>;
  const input = prices.input_cost_per_token_batches;
  const output = prices.output_cost_per_token_batches;
  if (typeof input === 'number' && typeof output === 'number') return usage.promptTokens * input + usage.completionTokens * output;
  return costOfCall(deployment, usage) * BATCH_DISCOUNT;
}
