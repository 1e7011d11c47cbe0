import type OpenAI from 'openai';

export interface StreamedToolCall {
  id?: string;
  name?: string;
  arguments: string;
}

/** Reads an OpenAI chat stream to its end: the tool calls assembled from their deltas, the finish reason and the usage chunk. */
export async function collectToolCalls(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<{
  calls: StreamedToolCall[];
  finish: string | null | undefined;
  usage: OpenAI.CompletionUsage | null | undefined;
}> {
  const calls: StreamedToolCall[] = [];
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = (calls[delta.index] ??= { arguments: '' });
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name = delta.function.name;
      call.arguments += delta.function?.arguments ?? '';
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return { calls, finish, usage };
}
