/**
 * Server-sent events cut from bytes that may split anywhere (inside a line,
 * inside a UTF-8 character, between `\r` and `\n`): yields each event's
 * `data` (its data lines joined with "\n"), skipping comments and empty events.
 */
import type { StreamDecoder } from '../bedrock/openai-chunk-stream.ts';

const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

export class SseDecoder implements StreamDecoder<string> {
  private readonly text = new TextDecoder();
  private buffer = '';

  push(bytes: Uint8Array): string[] {
    this.buffer += this.text.decode(bytes, { stream: true });
    const events: string[] = [];
    for (;;) {
      // A trailing "\r" may be the first half of "\r\n": wait for the next piece.
      const match = EVENT_END.exec(this.buffer);
      if (!match || (match[0] === '\r\r' && this.buffer[match.index + 2] === '\n')) break;
      const data = dataOf(this.buffer.slice(0, match.index));
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (data !== undefined) events.push(data);
    }
    return events;
  }

  end(): string[] {
    this.buffer += this.text.decode();
    const data = dataOf(this.buffer);
    this.buffer = '';
    return data === undefined ? [] : [data];
  }
}

function dataOf(event: string): string | undefined {
  const lines = event.split(/\r\n|\n|\r/).filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
  return lines.length ? lines.join('\n') : undefined;
}
