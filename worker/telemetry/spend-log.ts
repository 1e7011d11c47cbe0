import type { GatewayEnv } from '../env.ts';

/**
 * One request's row of LiteLLM_SpendLogs, as it travels on the spend-log
 * Queue (times as ISO strings). Lean on purpose: no pricing JSON, prompts and
 * answers only with `store_prompts_in_spend_logs`.
 */
export interface SpendLogRecord {
  request_id: string;
  call_type: 'acompletion' | 'atext_completion' | 'aembedding';
  api_key: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  startTime: string;
  endTime: string;
  completionStartTime: string | null;
  request_duration_ms: number;
  model: string;
  model_id: string;
  model_group: string;
  custom_llm_provider: string;
  api_base: string;
  /** The key owner's user_id. */
  user: string;
  metadata: Record<string, unknown>;
  cache_hit: boolean;
  cache_key: string | null;
  request_tags: string[];
  team_id: string | null;
  organization_id: string | null;
  end_user: string | null;
  messages: unknown;
  response: unknown;
  session_id: string | null;
  status: 'success' | 'failure';
  error_type: string | null;
}

/**
 * Puts the record on the spend-log Queue; the admin Worker writes it to
 * Postgres in batches. Called from `ctx.waitUntil`, never awaited by a request.
 */
export async function sendSpendLog(env: GatewayEnv, record: SpendLogRecord): Promise<void> {
  const queue = env.SPEND_LOG_QUEUE;
  if (!queue) {
    console.warn('no SPEND_LOG_QUEUE binding: spend log not recorded', record.request_id);
    return;
  }
  try {
    await queue.send(record, { contentType: 'json' });
  } catch (err) {
    console.error('spend log send failed', record.request_id, err instanceof Error ? err.message : String(err));
  }
}
