/**
 * ConverseStream's events → OpenAI chunk deltas. Events arrive as event
 * stream frames named by `:event-type` (messageStart, contentBlockStart,
 * contentBlockDelta, contentBlockStop, messageStop, metadata) whose payload
 * is the event's JSON; exceptions arrive as `:message-type: exception` frames.
 */
import { z } from 'zod';
import type { UsageReport } from '../types.ts';
import { converseUsage, converseUsageSchema, finishReasonOf } from './converse-response.ts';
import { bedrockStreamError } from './errors.ts';
import type { EventStreamMessage } from './eventstream.ts';
import type { ChunkDelta, StreamTranslator } from './openai-chunk-stream.ts';
import { unexpectedAnswer } from './upstream-post.ts';

const blockStart = z.looseObject({
  contentBlockIndex: z.number().int(),
  start: z.looseObject({ toolUse: z.looseObject({ toolUseId: z.string(), name: z.string() }).optional() }).optional(),
});
const blockDelta = z.looseObject({
  contentBlockIndex: z.number().int(),
  delta: z.looseObject({
    text: z.string().optional(),
    toolUse: z.looseObject({ input: z.string() }).optional(),
    reasoningContent: z.looseObject({ text: z.string().optional() }).optional(),
  }),
});
const messageStop = z.looseObject({ stopReason: z.string() });
const metadata = z.looseObject({ usage: converseUsageSchema.optional() });

const utf8 = new TextDecoder();

export class ConverseStreamTranslator implements StreamTranslator<EventStreamMessage> {
  private report: UsageReport | undefined;
  /** Converse numbers content blocks; OpenAI numbers tool calls. */
  private toolIndex = new Map<number, number>();

  private readonly secrets: readonly (string | undefined)[];

  constructor(secrets: readonly (string | undefined)[]) {
    this.secrets = secrets;
  }

  async event(message: EventStreamMessage): Promise<ChunkDelta[]> {
    const kind = message.headers[':message-type'];
    const json = parse(message.payload);
    if (kind === 'exception') {
      const type = String(message.headers[':exception-type'] ?? 'internalServerException');
      throw await bedrockStreamError(type, typeof json?.message === 'string' ? json.message : '', this.secrets);
    }
    if (kind === 'error') {
      throw await bedrockStreamError(String(message.headers[':error-code'] ?? 'internalServerException'), String(message.headers[':error-message'] ?? ''), this.secrets);
    }
    const type = message.headers[':event-type'];
    switch (type) {
      case 'messageStart':
        return [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }];
      case 'contentBlockStart': {
        const event = read(blockStart, json, type);
        const start = event.start?.toolUse;
        if (!start) return [];
        const index = this.toolIndex.size;
        this.toolIndex.set(event.contentBlockIndex, index);
        return [{ index: 0, delta: { tool_calls: [{ index, id: start.toolUseId, type: 'function', function: { name: start.name, arguments: '' } }] }, finish_reason: null }];
      }
      case 'contentBlockDelta': {
        const event = read(blockDelta, json, type);
        const { delta } = event;
        if (delta.text !== undefined) return delta.text ? [{ index: 0, delta: { content: delta.text }, finish_reason: null }] : [];
        if (delta.reasoningContent?.text) return [{ index: 0, delta: { reasoning_content: delta.reasoningContent.text }, finish_reason: null }];
        const tool = this.toolIndex.get(event.contentBlockIndex);
        if (delta.toolUse && tool !== undefined) {
          return [{ index: 0, delta: { tool_calls: [{ index: tool, function: { arguments: delta.toolUse.input } }] }, finish_reason: null }];
        }
        return [];
      }
      case 'messageStop':
        return [{ index: 0, delta: {}, finish_reason: finishReasonOf(read(messageStop, json, type).stopReason) }];
      case 'metadata':
        this.report = converseUsage(read(metadata, json, type).usage) ?? this.report;
        return [];
      default:
        // contentBlockStop, and events added after this was written.
        return [];
    }
  }

  end(): ChunkDelta[] {
    return [];
  }

  usage(): UsageReport | undefined {
    return this.report;
  }

  usageExtras() {
    return { cacheFields: true };
  }
}

function parse(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(payload));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function read<T extends z.ZodType>(schema: T, json: unknown, type: string): z.output<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw unexpectedAnswer('Bedrock', 'bedrock', `a ${type} event that does not parse`);
  return parsed.data;
}
