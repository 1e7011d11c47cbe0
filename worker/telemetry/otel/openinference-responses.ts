/**
 * A Responses API answer on an OpenInference span, as LiteLLM's Arize integration sets it (`_set_structured_outputs`
 * in litellm/integrations/arize/_utils.py): one output message per `output` item, at the item's index, so the
 * message item (its text) is `llm.output_messages.0.message.role|content` and `output.value`. LiteLLM sets nothing for
 * a `function_call` item; here it is the output message at its index carrying that tool call
 * (`llm.output_messages.N.message.tool_calls.0.tool_call.id|function.name|function.arguments`), so a call that only
 * called tools still shows what it answered (`output.value`: those items' JSON).
 */
import type { AnswerToolCall } from '../../providers/types.ts';
import { boundedToolCalls, responsesOutput } from '../answer-tool-calls.ts';
import { type Attribute, bounded, put } from './spans.ts';

/** The answer's text and tool calls as Responses `output` items on the span, within `limit` characters (each text, the tool calls together). */
export function putResponsesOutput(out: Attribute[], answer: string | undefined, calls: readonly AnswerToolCall[] | undefined, limit: number): void {
  const kept = calls && boundedToolCalls(calls, limit);
  const items = responsesOutput(answer === undefined ? undefined : bounded(answer, limit), kept);
  const value = answer || !kept ? answer : JSON.stringify(items);
  if (value !== undefined) put(out, 'output.value', bounded(value, limit));
  let call = 0;
  items.forEach((item, i) => {
    const prefix = `llm.output_messages.${i}.message`;
    put(out, `${prefix}.role`, 'assistant');
    if (item.type === 'message') {
      put(out, `${prefix}.content`, (item.content as { text: string }[])[0]!.text);
      return;
    }
    const tool = kept![call++]!;
    put(out, `${prefix}.tool_calls.0.tool_call.id`, tool.id);
    put(out, `${prefix}.tool_calls.0.tool_call.function.name`, tool.function.name);
    put(out, `${prefix}.tool_calls.0.tool_call.function.arguments`, tool.function.arguments);
  });
}
