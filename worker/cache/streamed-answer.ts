import type { AnswerToolCall, CallOutcome, Endpoint, StreamedAs } from '../providers/types.ts';

/**
 * The finish reasons of an answer that ended on its own, as OpenAI names them: `stop` and `tool_calls`, and what
 * other servers send for those (TGI's `eos_token`, together_ai's `eos`, Anthropic-style `end_turn`, `stop_sequence`
 * and `tool_use`, Cohere's `COMPLETE`, Vertex's `STOP`), mapped as LiteLLM's map_finish_reason maps them. Any other
 * (`length`, `content_filter`, `error`, one not known) is not stored.
 */
const FINISHED_AS = new Map([
  ['stop', 'stop'], ['eos', 'stop'], ['eos_token', 'stop'], ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['COMPLETE', 'stop'], ['STOP', 'stop'],
  ['tool_calls', 'tool_calls'], ['tool_use', 'tool_calls'],
]);

/**
 * A streamed answer as the cache stores it: assembled from what the call kept (its text, a chat answer's tool
 * calls and reasoning, its finish reason, its id), only where its first choice finished `stop` or `tool_calls` (or
 * another server's word for them, `FINISHED_AS`), stored under the reason mapped. Undefined where that may not be
 * what the client got: a stream that failed, that the client left or that ended without its first choice's finish
 * reason; one that finished otherwise (cut at `max_tokens`, filtered); one that carried what is not kept
 * (`partsLeftOut`: another choice, reasoning past the cap, not as text or not in the first choice's delta, a Claude
 * answer's thinking without its signature, which must go back with the tool results, a refusal, audio whose id
 * expires, annotations, logprobs, content parts, the stop sequence that ended a Claude answer); a completion with
 * reasoning; tool calls the kept list does not hold whole (`toolCallsCut`: a cap, a custom tool's call), a
 * completion's, or ones a client could not be given again as they came (`replayable`). A masked answer never gets
 * here: a call with answer guardrails plans no cache (proxy/model-call.ts).
 */
export function streamedAnswer(endpoint: Endpoint, model: string, outcome: CallOutcome): string | undefined {
  if (outcome.error || outcome.aborted || outcome.partsLeftOut || outcome.responseText === undefined || (endpoint !== 'chat' && endpoint !== 'completion')) return undefined;
  // A completion's choice has only `text`: its reasoning would not be stored.
  if (endpoint === 'completion' && outcome.responseReasoning) return undefined;
  const finish = outcome.finishReason === undefined ? undefined : FINISHED_AS.get(outcome.finishReason);
  if (finish === undefined) return undefined;
  const calls = outcome.responseToolCalls;
  const as = outcome.streamedAs;
  if (!outcome.toolCalls && !calls) return finish === 'stop' ? assembleAnswer(endpoint, model, outcome, finish, as) : undefined;
  if (endpoint !== 'chat' || !calls || outcome.toolCallsCut || !calls.every(replayable)) return undefined;
  return assembleAnswer(endpoint, model, outcome, finish, as, calls);
}

/**
 * A tool call the client can be given again as it got it: with its id and name (a legacy `function_call`, kept as
 * a call without an id, is not stored), and `arguments` empty (a call without any, the answer finished) or whole JSON.
 */
function replayable(call: AnswerToolCall): boolean {
  if (!call.id || !call.function.name) return false;
  if (call.function.arguments === '') return true;
  try {
    JSON.parse(call.function.arguments);
    return true;
  } catch {
    return false;
  }
}

/**
 * The non-streamed form of a streamed answer, from its text, tool calls, reasoning, usage and finish reason, under
 * the id, `created` and model its chunks carried: what a cache stores. A chat answer with tool calls has them in
 * `message.tool_calls`, content null without text; its reasoning in the fields it streamed in (`reasoning_content`,
 * `reasoning`, Claude's `thinking_blocks`), its reasoning tokens in `usage.completion_tokens_details`.
 */
function assembleAnswer(
  endpoint: 'chat' | 'completion', model: string, outcome: CallOutcome, finish: string, as: StreamedAs | undefined, toolCalls?: readonly AnswerToolCall[],
): string {
  const { usage, responseText: text = '' } = outcome;
  const u = {
    prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens,
    ...(usage.reasoningTokens ? { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens } } : {}),
  };
  const id = as?.id || `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomUUID()}`;
  const created = as?.created ?? Math.floor(Date.now() / 1000);
  const named = as?.model || model;
  const reasoning = outcome.responseReasoning;
  const message = toolCalls?.length ? { role: 'assistant', content: text || null, tool_calls: toolCalls, ...reasoning } : { role: 'assistant', content: text, ...reasoning };
  return JSON.stringify(endpoint === 'chat'
    ? { id, object: 'chat.completion', created, model: named, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: u }
    : { id, object: 'text_completion', created, model: named, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], usage: u });
}
