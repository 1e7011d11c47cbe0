// A type of its own module (no Workers bindings), so what reads a record's fields (the standard loggers'
// payload, its tests under node) does not take in the spend-log Queue's env.

/**
 * One request's row of LiteLLM_SpendLogs, as it travels on the spend-log
 * Queue (times as ISO strings). Lean on purpose: no pricing JSON, prompts and
 * answers only with `store_prompts_in_spend_logs`.
 */
export interface SpendLogRecord {
  request_id: string;
  call_type: 'acompletion' | 'atext_completion' | 'aembedding' | 'aresponses' | 'amoderation' | 'aimage_generation' | 'aspeech' | 'atranscription' | 'aimage_edit' | 'arerank' | 'aocr' | 'aretrieve_batch' | 'acreate_container' | 'acreate_skill' | 'acreate_fine_tuning_job' | 'avector_store_create' | 'avector_store_search' | 'avideo_generation' | 'avideo_remix' | 'pass_through_endpoint' | '_arealtime' | 'call_mcp_tool' | 'asearch' | 'asend_message' | 'acreate_interaction';
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
