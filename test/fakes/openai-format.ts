/**
 * Builders for the exact JSON OpenAI's and Azure OpenAI's APIs put on the
 * wire: the gateway's parsers are tested against these, so shapes follow real
 * responses (nulls, empty arrays), not SDK typings. Also the fake's echo rules
 * (token counts, vectors), exported so tests can compute expected values.
 */

/** 'azure' adds the content-filter annotations Azure puts on chat and text completions and drops `service_tier`. */
export type Flavor = 'openai' | 'azure';
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ToolCallInput {
  id?: string;
  name: string;
  /** JSON text, exactly as the model emits it. */
  arguments: string;
}

export const SYSTEM_FINGERPRINT = 'fp_f00dfa4e11';

let sequence = 0;
/** Unique and recognisable ids with OpenAI's prefixes ('chatcmpl-', 'cmpl-', 'call_', 'req_'). */
export function fakeId(prefix: string): string {
  return `${prefix}FAKE${String(++sequence).padStart(6, '0')}${Math.random().toString(36).slice(2, 12)}`;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function chatUsage(promptTokens: number, completionTokens: number, cachedTokens = 0, reasoningTokens = 0) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Azure's per-category verdicts when nothing was flagged. */
export function azureSafeFilterResults(withPromptShields = false) {
  const safe = { filtered: false, severity: 'safe' };
  const shields = withPromptShields ? { jailbreak: { filtered: false, detected: false } } : {};
  return { hate: safe, ...shields, self_harm: safe, sexual: safe, violence: safe };
}

function azurePromptFilterResults() {
  return [{ prompt_index: 0, content_filter_results: azureSafeFilterResults(true) }];
}

export interface ChatCompletionInput {
  model: string;
  content: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  /** Defaults to 'tool_calls' when toolCalls are given, else 'stop'. */
  finishReason?: FinishReason;
  toolCalls?: ToolCallInput[];
  id?: string;
  created?: number;
  flavor?: Flavor;
}

/** A non-streamed `chat.completion` object. */
export function openaiChatCompletion(input: ChatCompletionInput) {
  const azure = input.flavor === 'azure';
  const message: Record<string, unknown> = { role: 'assistant', content: input.content, refusal: null, annotations: [] };
  if (input.toolCalls?.length) message.tool_calls = input.toolCalls.map((c) => ({ id: c.id ?? fakeId('call_'), type: 'function', function: { name: c.name, arguments: c.arguments } }));
  const finish = input.finishReason ?? (input.toolCalls?.length ? 'tool_calls' : 'stop');
  return {
    id: input.id ?? fakeId('chatcmpl-'),
    object: 'chat.completion',
    created: input.created ?? now(),
    model: input.model,
    ...(azure ? { prompt_filter_results: azurePromptFilterResults() } : {}),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish, ...(azure ? { content_filter_results: input.content ? azureSafeFilterResults() : {} } : {}) }],
    usage: chatUsage(input.promptTokens, input.completionTokens, input.cachedTokens, input.reasoningTokens),
    ...(azure ? {} : { service_tier: 'default' }),
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

export interface ChatChunksInput {
  model: string;
  /** Content deltas, one chunk each. */
  pieces: string[];
  promptTokens: number;
  completionTokens: number;
  /** As requested with `stream_options.include_usage`: adds `usage: null` to every chunk and a final usage chunk with `choices: []`. */
  includeUsage: boolean;
  cachedTokens?: number;
  finishReason?: FinishReason;
  /** Streamed after the pieces: per call, a chunk with id and name, then one with the arguments. */
  toolCalls?: ToolCallInput[];
  /** Each call's arguments in this many chunks, as OpenAI streams them (default 1). */
  argumentPieces?: number;
  id?: string;
  created?: number;
  flavor?: Flavor;
}

/**
 * The `chat.completion.chunk` objects of one streamed answer, without the
 * trailing '[DONE]' (the caller appends it). Azure additionally opens with a
 * chunk that has empty id/model/object, `created: 0`, `choices: []` and the
 * prompt's filter verdicts: parsers must survive it.
 */
export function openaiChatChunks(input: ChatChunksInput): Record<string, unknown>[] {
  const azure = input.flavor === 'azure';
  const id = input.id ?? fakeId('chatcmpl-');
  const head = { id, object: 'chat.completion.chunk', created: input.created ?? now(), model: input.model, ...(azure ? {} : { service_tier: 'default' }), system_fingerprint: SYSTEM_FINGERPRINT };
  const usageNull = input.includeUsage ? { usage: null } : {};
  const choice = (delta: Record<string, unknown>, finish: FinishReason | null, filter: 'none' | 'safe') => {
    const annotations = azure ? { content_filter_results: filter === 'safe' ? azureSafeFilterResults() : {} } : {};
    return { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...annotations }], ...usageNull };
  };
  const out: Record<string, unknown>[] = [];
  if (azure) out.push({ id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: azurePromptFilterResults(), ...usageNull });
  const calls = input.toolCalls ?? [];
  out.push(choice({ role: 'assistant', content: calls.length && !input.pieces.length ? null : '', refusal: null }, null, 'none'));
  for (const piece of input.pieces) out.push(choice({ content: piece }, null, 'safe'));
  calls.forEach((call, index) => {
    out.push(choice({ tool_calls: [{ index, id: call.id ?? fakeId('call_'), type: 'function', function: { name: call.name, arguments: '' } }] }, null, 'none'));
    const pieces = input.argumentPieces ?? 1;
    for (let i = 0; i < pieces; i++) {
      const piece = call.arguments.slice(Math.floor((i * call.arguments.length) / pieces), Math.floor(((i + 1) * call.arguments.length) / pieces));
      out.push(choice({ tool_calls: [{ index, function: { arguments: piece } }] }, null, 'none'));
    }
  });
  out.push(choice({}, input.finishReason ?? (calls.length ? 'tool_calls' : 'stop'), 'none'));
  if (input.includeUsage) out.push({ ...head, choices: [], usage: chatUsage(input.promptTokens, input.completionTokens, input.cachedTokens) });
  return out;
}

export interface TextCompletionInput {
  model: string;
  /** One choice per text (a prompt array gets one answer per prompt). */
  text: string | string[];
  promptTokens: number;
  completionTokens: number;
  finishReason?: FinishReason;
  id?: string;
  created?: number;
  flavor?: Flavor;
}

function textUsage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** A legacy `/completions` answer (object `text_completion`). */
export function openaiTextCompletion(input: TextCompletionInput) {
  const azure = input.flavor === 'azure';
  const texts = Array.isArray(input.text) ? input.text : [input.text];
  return {
    id: input.id ?? fakeId('cmpl-'),
    object: 'text_completion',
    created: input.created ?? now(),
    model: input.model,
    ...(azure ? { prompt_filter_results: azurePromptFilterResults() } : {}),
    choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: input.finishReason ?? 'stop', ...(azure ? { content_filter_results: azureSafeFilterResults() } : {}) })),
    usage: textUsage(input.promptTokens, input.completionTokens),
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

export interface TextChunksInput {
  model: string;
  pieces: string[];
  promptTokens: number;
  completionTokens: number;
  includeUsage: boolean;
  finishReason?: FinishReason;
  id?: string;
  created?: number;
}

/** Streamed `/completions`: every chunk is also `text_completion`; no role chunk; the last has text '' and the finish reason. */
export function openaiTextCompletionChunks(input: TextChunksInput): Record<string, unknown>[] {
  const head = { id: input.id ?? fakeId('cmpl-'), object: 'text_completion', created: input.created ?? now(), model: input.model, system_fingerprint: SYSTEM_FINGERPRINT };
  const usageNull = input.includeUsage ? { usage: null } : {};
  const chunk = (text: string, finish: FinishReason | null) => ({ ...head, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], ...usageNull });
  const out: Record<string, unknown>[] = input.pieces.map((p) => chunk(p, null));
  out.push(chunk('', input.finishReason ?? 'stop'));
  if (input.includeUsage) out.push({ ...head, choices: [], usage: textUsage(input.promptTokens, input.completionTokens) });
  return out;
}

export const DEFAULT_EMBEDDING_DIMS = 8;

/** FNV-1a: a stable seed from the input text. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The deterministic unit vector for one input; components are float32 values already, so float and base64 forms decode equal. */
export function embeddingVector(input: string, dims = DEFAULT_EMBEDDING_DIMS): number[] {
  let state = hash(input) || 1;
  const raw: number[] = [];
  for (let i = 0; i < dims; i++) {
    // xorshift32: cheap, deterministic, platform independent
    state ^= state << 13;
    state ^= state >>> 17;
    state = (state ^ (state << 5)) >>> 0;
    raw.push(state / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

/** What OpenAI sends for `encoding_format: 'base64'`: the little-endian float32 bytes, base64. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(view.buffer).toString('base64');
}

export interface EmbeddingsInput {
  model: string;
  /** Token-array inputs are hashed by their JSON text. */
  inputs: string[];
  dims?: number;
  promptTokens: number;
  encodingFormat?: 'float' | 'base64';
}

export function openaiEmbeddings(input: EmbeddingsInput) {
  return {
    object: 'list',
    data: input.inputs.map((text, index) => {
      const vector = embeddingVector(text, input.dims);
      return { object: 'embedding', index, embedding: input.encodingFormat === 'base64' ? encodeFloat32Base64(vector) : vector };
    }),
    model: input.model,
    usage: { prompt_tokens: input.promptTokens, total_tokens: input.promptTokens },
  };
}

export function openaiError(e: { message: string; type: string; code?: string | null; param?: string | null }) {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } };
}

/** OpenAI's 429 body (pair it with a `retry-after` header if the test needs one). */
export function openaiRateLimitError(model = 'gpt-4o-mini', retryInSeconds = 1) {
  return openaiError({
    message: `Rate limit reached for ${model} in organization org-FAKE on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in ${retryInSeconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    type: 'tokens',
    code: 'rate_limit_exceeded',
  });
}

export function openaiInvalidApiKeyError(maskedKey = 'sk-test********1234') {
  const message = `Incorrect API key provided: ${maskedKey}. You can find your API key at https://platform.openai.com/account/api-keys.`;
  return openaiError({ message, type: 'invalid_request_error', code: 'invalid_api_key' });
}

/** Azure's `{error:{code,message}}`; extra fields (param, status, type, innererror) only when given, as Azure omits them. */
export function azureError(e: { code: string; message: string; param?: string | null; type?: string | null; status?: number; innererror?: unknown }) {
  return { error: Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) };
}

/** Azure's 429 body: code is the string '429', and the wait is only in the prose (and the retry-after header). */
export function azureRateLimitError(apiVersion = '2024-08-01-preview', retryAfterSeconds = 1) {
  return azureError({
    code: '429',
    message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
  });
}

/** Azure's 400 when the prompt trips the content filter (the shape a real deployment returns). */
export function azureContentFilterError(flagged: 'hate' | 'self_harm' | 'sexual' | 'violence' = 'violence') {
  const results: Record<string, unknown> = azureSafeFilterResults(true);
  results[flagged] = { filtered: true, severity: 'medium' };
  return {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: results },
    },
  };
}

export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

export function countWords(text: string): number {
  return words(text).length;
}

/** The text of a message's content: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown } | null) => (typeof p?.text === 'string' ? p.text : '')).filter(Boolean).join(' ');
  return '';
}

/** Echo rule: words in every message's content, plus 3 per message. */
export function chatPromptTokens(messages: readonly unknown[]): number {
  return messages.reduce<number>((sum, m) => sum + countWords(messageText((m as { content?: unknown } | null)?.content)) + 3, 0);
}

/** Echo rule: the answer's words, 'echo:' first, then the last user message; one streamed piece (and one token) per word. */
export function echoWords(messages: readonly unknown[]): string[] {
  const lastUser = [...messages].reverse().find((m) => (m as { role?: unknown } | null)?.role === 'user') as { content?: unknown } | undefined;
  return ['echo:', ...words(messageText(lastUser?.content))];
}

/** Streamed pieces of an answer: the first word bare, every later one with its leading space. */
export function piecesOf(answerWords: readonly string[]): string[] {
  return answerWords.map((w, i) => (i === 0 ? w : ` ${w}`));
}
