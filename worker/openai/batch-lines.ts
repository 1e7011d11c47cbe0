import { GatewayError } from '../errors.ts';

/**
 * A batch input file's lines with the model each names set to the deployment's (as LiteLLM rewrites a
 * batch file for its deployment), so a client names the model group and an Azure batch its deployment.
 * Works on bytes, a chunk at a time; a line that is not a batch request (any other file, binary
 * included) passes unchanged. What a batch may run is checked when it is created (forEachLine).
 */
export interface LineRewriter {
  push(chunk: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
}

export function batchLineRewriter(model: string): LineRewriter {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let partial: Uint8Array[] = [];

  const line = (bytes: Uint8Array): Uint8Array => {
    // Only a JSON object can be a request line; anything else is left as it is, byte for byte.
    if (!startsObject(bytes)) return bytes;
    let request: { custom_id?: unknown; body?: { model?: unknown } };
    try {
      request = JSON.parse(decoder.decode(bytes)) as typeof request;
    } catch {
      return bytes;
    }
    if (!request || typeof request !== 'object' || request.custom_id === undefined || !request.body || typeof request.body !== 'object') return bytes;
    request.body.model = model;
    const crlf = bytes.at(-1) === 0x0d;
    return encoder.encode(JSON.stringify(request) + (crlf ? '\r' : ''));
  };

  let held = 0;
  /** In a long run of bytes that is no request line (binary): passed on until the next newline. */
  let passing = false;

  return {
    push(chunk) {
      const out: Uint8Array[] = [];
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        if (passing) out.push(chunk.subarray(from, nl), NEWLINE);
        else {
          partial.push(chunk.subarray(from, nl));
          out.push(line(joined(partial)), NEWLINE);
        }
        partial = [];
        held = 0;
        passing = false;
        from = nl + 1;
      }
      if (from < chunk.length) {
        const rest = chunk.slice(from);
        if (passing) out.push(rest);
        else {
          partial.push(rest);
          held += rest.length;
        }
      }
      if (!passing && held > MAX_LINE_BYTES) {
        // Too long to hold: streamed on as it is.
        out.push(joined(partial));
        partial = [];
        held = 0;
        passing = true;
      }
      return out;
    },
    end() {
      const rest = joined(partial);
      partial = [];
      return rest.length && !passing ? [line(rest)] : rest.length ? [rest] : [];
    },
  };
}

/** A line held whole to be rewritten; a longer one passes as it is (and a batch of it is refused: forEachLine). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Whether the bytes begin (after a byte-order mark and JSON whitespace) a JSON object. */
function startsObject(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d) i++;
  return bytes[i] === 0x7b;
}

/**
 * Each line of a JSONL file, decoded, a chunk at a time (a batch's files can be far larger than a Worker's
 * memory); a line longer than MAX_LINE_BYTES throws.
 */
export async function forEachLine(stream: ReadableStream<Uint8Array>, each: (line: string, n: number) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  let n = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    if (rest.length > MAX_LINE_BYTES) throw new Error(`line ${n + lines.length + 1} is longer than ${MAX_LINE_BYTES / 1024 / 1024} MB`);
    for (const line of lines) each(line, ++n);
  }
  rest += decoder.decode();
  if (rest) each(rest, ++n);
}

const NEWLINE = new Uint8Array([0x0a]);

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Refuses (400) a batch input a key may not run: every line a strict JSON request of the batch's
 * `endpoint` for the deployment's model (the upload set it), so no line reaches another model of the
 * provider's account, however the file was written.
 */
export async function checkBatchInput(input: ReadableStream<Uint8Array>, model: string, endpoint: string): Promise<void> {
  const refuse = (n: number, why: string) => new GatewayError(`input_file_id: line ${n} ${why}`, { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
  let requests = 0;
  try {
    await forEachLine(input, (line, n) => {
      if (!line.trim()) return;
      let request: { method?: unknown; url?: unknown; body?: { model?: unknown } | null };
      try {
        request = JSON.parse(line) as typeof request;
      } catch {
        throw refuse(n, 'is not JSON');
      }
      if (!request || typeof request !== 'object' || !request.body || typeof request.body !== 'object') throw refuse(n, 'has no request body');
      if (request.body.model !== model) throw refuse(n, `names model ${JSON.stringify(request.body.model)}, not this model group's (${model}); upload the file through the gateway, which sets it`);
      if (typeof request.url !== 'string' || withoutV1(request.url) !== withoutV1(endpoint) || request.method !== 'POST') throw refuse(n, `is not a POST to ${endpoint}`);
      requests++;
    });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError(`input_file_id: ${err instanceof Error ? err.message : String(err)}`, { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
  }
  if (requests === 0) throw new GatewayError('input_file_id: the file holds no requests', { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
}

/** Azure names batch routes without `/v1`. */
const withoutV1 = (path: string) => path.replace(/^\/v1(?=\/)/, '');

/** A form's file with its lines rewritten (batchLineRewriter); the form is in memory already. */
export async function rewrittenFile(file: File, model: string): Promise<File> {
  const rewriter = batchLineRewriter(model);
  const pieces: Uint8Array[] = [];
  for await (const chunk of file.stream() as unknown as AsyncIterable<Uint8Array>) pieces.push(...rewriter.push(chunk));
  pieces.push(...rewriter.end());
  return new File(pieces as Uint8Array<ArrayBuffer>[], file.name, { type: file.type });
}
