const EVENT_END = /\r?\n\r?\n/;

/**
 * The skeleton of a translator from the gateway's chat stream (OpenAI's chunks as SSE, every adapter's
 * output) into another API's events: text pushed as it arrives; each complete event's `data` handed to
 * `chunk()`, `[DONE]` to `finish()`, and a stream that stops before either to `broken()`. Pure: feed
 * text, send what comes out. A subclass sets `done` once it has ended the stream.
 */
export abstract class SseTranslator {
  done = false;
  private buffer = '';

  push(text: string): string {
    if (this.done) return '';
    this.buffer += text;
    let out = '';
    for (;;) {
      const match = EVENT_END.exec(this.buffer);
      if (!match) break;
      const raw = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      out += this.event(raw);
      if (this.done) break;
    }
    return out;
  }

  /** The chat stream ended; without `[DONE]` or an error chunk it broke. */
  end(): string {
    if (this.done) return '';
    const out = this.buffer.trim() ? this.event(this.buffer) : '';
    this.buffer = '';
    return this.done ? out : out + this.broken();
  }

  private event(raw: string): string {
    const data = raw.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data) return '';
    return data === '[DONE]' ? this.finish() : this.chunk(data);
  }

  /** One chunk's JSON text. */
  protected abstract chunk(data: string): string;
  /** `[DONE]`: the stream's end. */
  protected abstract finish(): string;
  /** The stream stopped before its end. */
  protected abstract broken(): string;
}
