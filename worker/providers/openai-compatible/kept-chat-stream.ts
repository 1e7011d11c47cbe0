import { isObject } from '../../json.ts';
import { keptAnswer, ToolCallJoiner } from '../answer-tool-calls.ts';
import { ReasoningJoiner } from '../kept-reasoning.ts';
import type { CallOutcome, StreamedAs } from '../types.ts';

// A chunk that finished a choice (`"finish_reason":null` in every other chunk does not match, nor the `""` some servers send).
const FINISHED = /"finish_reason"\s*:\s*"[^"]/;
// A choice past the first, or a tool call past the first: the chunk is parsed to tell which (`"end_index"` does not match).
const LATER_INDEX = /"index"\s*:\s*[1-9]/;
// What the client got beside the text, calls and reasoning text, not `null`, "" or `[]`: reasoning that is not text
// (OpenRouter's `reasoning_details`, LiteLLM's `thinking_blocks`, a `reasoning` object), a refusal (structured
// outputs, content null), audio, annotations (web search citations), logprobs, or content as a list of parts
// (Mistral's thinking).
const LEFT_OUT = /"(?:reasoning_details|thinking_blocks|refusal|audio|annotations|logprobs)"\s*:\s*(?:"[^"]|\[\s*\{|\{)|"reasoning(?:_content)?"\s*:\s*(?:\[\s*\{|\{)|"content"\s*:\s*\[/;
// Reasoning text (`reasoning_content`: DeepSeek, vLLM; `reasoning`: OpenRouter, newer vLLM), not `null` or "": kept.
const REASONING = /"reasoning(?:_content)?"\s*:\s*"[^"]/;

/**
 * What a call that keeps its answer keeps of an OpenAI chat or completion stream beside its text: the first
 * choice's tool calls and reasoning text joined, its finish reason, the id, `created` and model the chunks carried,
 * and whether the stream carried what that leaves out (another choice, reasoning past the cap or not as text, a
 * refusal, audio, annotations, logprobs, content parts). A chunk is parsed at most once, and only the few that say
 * something: the first, one carrying a tool call or reasoning text, one finishing a choice, one with an index past 0.
 */
export class KeptChatStream {
  private readonly joiner = new ToolCallJoiner();
  private readonly reasoning = new ReasoningJoiner();
  private finishReason: string | undefined;
  private partsLeftOut = false;
  private streamedAs: StreamedAs | undefined;
  /** No chunk with choices read yet (Azure opens with one without any: its prompt filter verdicts). */
  private headless = true;

  /** One chunk's `data`; `toolCall`: it carries a tool call (or a legacy `function_call`). */
  read(data: string, toolCall: boolean): void {
    const namesReasoning = data.includes('"reasoning');
    if (!this.partsLeftOut && leavesOut(data, namesReasoning)) this.partsLeftOut = true;
    // Reasoning text is joined beside what the stream leaves out too (`reasoning_details`, logprobs): the logs show it.
    const reasoning = namesReasoning && !this.reasoning.cut && REASONING.test(data);
    if (!toolCall && !reasoning && !this.headless && !FINISHED.test(data) && (this.partsLeftOut || !LATER_INDEX.test(data))) return;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(chunk) || !Array.isArray(chunk.choices)) {
      if (reasoning) this.partsLeftOut = true;
      return;
    }
    if (this.headless && chunk.choices.length) {
      this.headless = false;
      if (typeof chunk.id === 'string' && chunk.id) {
        this.streamedAs = { id: chunk.id, created: typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000), model: typeof chunk.model === 'string' ? chunk.model : '' };
      }
    }
    let reasoningKept = false;
    for (const choice of chunk.choices) {
      if (!isObject(choice)) continue;
      if ((choice.index ?? 0) !== 0) {
        this.partsLeftOut = true;
        continue;
      }
      if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finishReason = choice.finish_reason;
      if (toolCall) this.joiner.addDelta(choice.delta);
      if (reasoning && isObject(choice.delta)) reasoningKept = this.addReasoning(choice.delta);
    }
    // Reasoning text not in the first choice's delta (a completion's choice carries it beside `text`) is not kept.
    if (reasoning && !reasoningKept) this.partsLeftOut = true;
  }

  /** The outcome's part kept beside `text`. */
  kept(text: string): Partial<CallOutcome> {
    return {
      ...keptAnswer(text, this.joiner.calls()),
      ...(this.finishReason ? { finishReason: this.finishReason } : {}),
      ...(this.partsLeftOut ? { partsLeftOut: true } : {}),
      ...this.reasoning.kept(),
      ...(this.streamedAs ? { streamedAs: this.streamedAs } : {}),
    };
  }

  /** Whether the delta carried reasoning text. */
  private addReasoning(delta: Record<string, unknown>): boolean {
    const { reasoning_content: content, reasoning } = delta;
    const hasContent = typeof content === 'string' && content !== '';
    const hasReasoning = typeof reasoning === 'string' && reasoning !== '';
    if (hasContent) this.reasoning.add('reasoning_content', content);
    if (hasReasoning) this.reasoning.add('reasoning', reasoning);
    return hasContent || hasReasoning;
  }
}

/**
 * The chunk carries what the kept text and calls leave out (`LEFT_OUT`). Most chunks name none of those fields, or
 * only OpenAI's `"logprobs":null`, so the regex runs only on a chunk that names one otherwise (`namesReasoning`: the
 * chunk names a `"reasoning…` field, looked for once by the caller).
 */
function leavesOut(data: string, namesReasoning: boolean): boolean {
  const names = namesReasoning || data.includes('"thinking_blocks"') || data.includes('"refusal"') ||
    data.includes('"audio"') || data.includes('"annotations"') || data.includes('"content":[') || data.includes('"content": [') ||
    (data.includes('"logprobs"') && !data.includes('"logprobs":null'));
  return names && LEFT_OUT.test(data);
}
