/**
 * AWS's `application/vnd.amazon.eventstream` framing, decoded incrementally:
 * a frame may arrive in any number of pieces. Each message is
 *
 *   total length (u32) | headers length (u32) | prelude CRC (u32) | headers | payload | message CRC (u32)
 *
 * big-endian, the prelude CRC over the first 8 bytes, the message CRC over
 * everything before it. A bad checksum or length ends the stream with an error.
 */
import { crc32 } from './crc32.ts';

export type HeaderValue = string | number | boolean | Uint8Array;

export interface EventStreamMessage {
  headers: Record<string, HeaderValue>;
  payload: Uint8Array;
}

const PRELUDE = 12;
const OVERHEAD = PRELUDE + 4;
// AWS caps a message at 16 MiB of payload and 128 KiB of headers; anything larger is not a Bedrock frame.
const MAX_MESSAGE = 16 * 1024 * 1024 + 128 * 1024 + OVERHEAD;

export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
}

const utf8 = new TextDecoder();

export class EventStreamDecoder {
  private buffer = new Uint8Array(4096);
  private length = 0;

  push(bytes: Uint8Array): EventStreamMessage[] {
    this.append(bytes);
    const messages: EventStreamMessage[] = [];
    let offset = 0;
    while (this.length - offset >= PRELUDE) {
      const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + offset, this.length - offset);
      const total = view.getUint32(0);
      const headersLength = view.getUint32(4);
      if (crc32(this.buffer.subarray(offset, offset + 8)) !== view.getUint32(8)) throw new EventStreamError('event stream prelude checksum mismatch');
      if (total < OVERHEAD || total > MAX_MESSAGE || headersLength > total - OVERHEAD) throw new EventStreamError(`event stream frame has a bad length (${total})`);
      if (this.length - offset < total) break;
      const frame = this.buffer.subarray(offset, offset + total);
      if (crc32(frame.subarray(0, total - 4)) !== view.getUint32(total - 4)) throw new EventStreamError('event stream message checksum mismatch');
      messages.push({
        headers: parseHeaders(frame.subarray(PRELUDE, PRELUDE + headersLength)),
        // Copied: the buffer is reused for later frames.
        payload: frame.slice(PRELUDE + headersLength, total - 4),
      });
      offset += total;
    }
    if (offset > 0) {
      this.buffer.copyWithin(0, offset, this.length);
      this.length -= offset;
    }
    return messages;
  }

  end(): EventStreamMessage[] {
    if (this.length > 0) throw new EventStreamError(`event stream ended inside a frame (${this.length} bytes left)`);
    return [];
  }

  private append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) {
      let size = this.buffer.length;
      while (size < this.length + bytes.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
}

/** Header value types of the event stream encoding. */
function parseHeaders(bytes: Uint8Array): Record<string, HeaderValue> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headers: Record<string, HeaderValue> = {};
  let i = 0;
  const need = (n: number) => {
    if (i + n > bytes.length) throw new EventStreamError('event stream header runs past its frame');
  };
  while (i < bytes.length) {
    need(1);
    const nameLength = view.getUint8(i++);
    need(nameLength + 1);
    const name = utf8.decode(bytes.subarray(i, i + nameLength));
    i += nameLength;
    const type = view.getUint8(i++);
    let value: HeaderValue;
    switch (type) {
      case 0: value = true; break;
      case 1: value = false; break;
      case 2: need(1); value = view.getInt8(i); i += 1; break;
      case 3: need(2); value = view.getInt16(i); i += 2; break;
      case 4: need(4); value = view.getInt32(i); i += 4; break;
      case 5: case 8: need(8); value = Number(view.getBigInt64(i)); i += 8; break;
      case 6: case 7: {
        need(2);
        const length = view.getUint16(i);
        i += 2;
        need(length);
        const raw = bytes.subarray(i, i + length);
        value = type === 7 ? utf8.decode(raw) : raw.slice();
        i += length;
        break;
      }
      case 9: need(16); value = [...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(''); i += 16; break;
      default: throw new EventStreamError(`event stream header ${name} has an unknown type ${type}`);
    }
    headers[name] = value;
  }
  return headers;
}
