import { GatewayError } from '../errors.ts';
import { concatBytes } from './multipart-filter.ts';

/** Lines rewritten as bytes arrive: each chunk's finished lines out, the rest at the end. */
export interface LineRewriter {
  push(chunk: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
}

/**
 * A batch input file's lines with the model each names set to the deployment's (as LiteLLM rewrites a
 * batch file for its deployment), so a client names the model group and an Azure batch its deployment.
 * Works on bytes, a chunk at a time; a line that is not a batch request (any other file, binary
 * included) passes unchanged. What a batch may run is checked when it is created (checkBatchInput).
 */
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
          out.push(line(concatBytes(...partial)), NEWLINE);
        }
        partial = [];
        held = 0;
        passing = false;
        from = nl + 1;
      }
      if (from < chunk.length) {
        const rest = chunk.subarray(from);
        if (passing) out.push(rest);
        else {
          partial.push(rest);
          held += rest.length;
        }
      }
      if (!passing && held > MAX_LINE_BYTES) {
        // Too long to hold: streamed on as it is.
        out.push(concatBytes(...partial));
        partial = [];
        held = 0;
        passing = true;
      }
      return out;
    },
    end() {
      const rest = concatBytes(...partial);
      partial = [];
      return rest.length && !passing ? [line(rest)] : rest.length ? [rest] : [];
    },
  };
}

/** A line held whole to be rewritten; a longer one passes as it is (and a batch of it is refused: forEachLine). */
const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Whether the bytes begin (after a byte-order mark and JSON whitespace) a JSON object. */
function startsObject(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d) i++;
  return bytes[i] === 0x7b;
}

/**
 * Each line of a JSONL file, decoded, a chunk at a time (a batch's files can be far larger than a
 * Worker's memory). `strict`: bytes that are no UTF-8, and a line longer than MAX_LINE_BYTES, throw.
 * Otherwise bad bytes are replaced, and a line too long to hold is given as its first and last
 * characters (`cut`: an embeddings answer's vectors dropped, its status and usage kept).
 */
export async function forEachLine(stream: ReadableStream<Uint8Array>, each: (line: string, n: number, cut?: { head: string; tail: string }) => void, strict = true): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: strict, ignoreBOM: false });
  // The line being read, in pieces (joined once it ends), and its length in bytes.
  let pieces: string[] = [];
  let held = 0;
  let n = 0;
  /** A line too long to hold (not `strict`): its start, and its end so far. */
  let cut: { head: string; tail: string } | undefined;
  const take = (text: string, bytes: number, final: boolean) => {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      if (cut) each('', ++n, { head: cut.head, tail: (cut.tail + text.slice(from, nl)).slice(-CUT_KEEP) });
      else each(pieces.join('') + text.slice(from, nl), ++n);
      pieces = [];
      held = 0;
      cut = undefined;
      from = nl + 1;
    }
    const rest = text.slice(from);
    if (cut) cut.tail = (cut.tail + rest).slice(-CUT_KEEP);
    else if (rest) {
      pieces.push(rest);
      held += bytes;
      if (held > MAX_LINE_BYTES) {
        if (strict) throw new Error(`line ${n + 1} is longer than ${MAX_LINE_BYTES / 1024 / 1024} MB`);
        const line = pieces.join('');
        cut = { head: line.slice(0, CUT_KEEP), tail: line.slice(-CUT_KEEP) };
        pieces = [];
      }
    }
    if (final && cut) each('', ++n, cut);
    else if (final && pieces.length) each(pieces.join(''), ++n);
  };
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) take(decoder.decode(chunk, { stream: true }), chunk.length, false);
  take(decoder.decode(), 0, true);
}

/**
 * An output line too long to hold (an embeddings answer's vectors): its status from its start, its
 * usage (which follows the vectors) from its end.
 */
export function cutLine(cut: { head: string; tail: string }): { response: { status_code: number; body: { usage: unknown } } } {
  const status = Number(/"status_code"\s*:\s*(\d+)/.exec(cut.head)?.[1]);
  const usages = [...cut.tail.matchAll(/"usage"\s*:\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})/g)];
  const usage = usages.length ? JSON.parse(usages.at(-1)![1]!) as unknown : undefined;
  return { response: { status_code: status, body: { usage } } };
}

/** Characters kept of each end of a line too long to hold. */
const CUT_KEEP = 64 * 1024;

const NEWLINE = new Uint8Array([0x0a]);

/**
 * Refuses (400) a batch input a key may not run. Every line must be exactly as the upload wrote it (the
 * JSON text JSON.stringify gives, so no reader of the provider's sees another request in it: no
 * duplicate key, stray CR or odd escape), a request with a `custom_id`, a POST to the batch's `endpoint`,
 * for the deployment's model, and name no stored file, response or conversation (a key reaches those
 * only through the gateway's ids, checked as their owner's).
 */
export async function checkBatchInput(input: ReadableStream<Uint8Array>, model: string, endpoint: string): Promise<void> {
  const refuse = (n: number, why: string) => new GatewayError(`input_file_id: line ${n} ${why}`, { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
  let requests = 0;
  try {
    await forEachLine(input, (text, n) => {
      if (!text.trim()) return;
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      let request: { custom_id?: unknown; method?: unknown; url?: unknown; body?: Record<string, unknown> | null };
      try {
        request = JSON.parse(line) as typeof request;
      } catch {
        throw refuse(n, 'is not JSON');
      }
      if (JSON.stringify(request) !== line) throw refuse(n, 'is not as the gateway writes it: upload the file through the gateway');
      if (!request || typeof request !== 'object' || request.custom_id === undefined || !request.body || typeof request.body !== 'object') throw refuse(n, 'is not a request (custom_id and body)');
      if (request.body.model !== model) throw refuse(n, `names model ${JSON.stringify(request.body.model)}, not this model group's (${model}); upload the file through the gateway, which sets it`);
      if (typeof request.url !== 'string' || withoutV1(request.url) !== withoutV1(endpoint) || request.method !== 'POST') throw refuse(n, `is not a POST to ${endpoint}`);
      const stored = storedReference(request.body);
      if (stored) throw refuse(n, `names a stored ${stored} (the account's, which a key's batch may not reach: the gateway checks those ids' owners on its own routes only)`);
      requests++;
    });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError(`input_file_id: ${err instanceof Error ? err.message : String(err)}`, { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
  }
  if (requests === 0) throw new GatewayError('input_file_id: the file holds no requests', { status: 400, type: 'invalid_request_error', param: 'input_file_id' });
}

/** Fields whose value names what the provider's account stores. */
const STORED: Record<string, string> = {
  file_id: 'file', file_ids: 'file', previous_response_id: 'response', conversation: 'conversation', container: 'container', container_id: 'container',
  vector_store_ids: 'vector store', prompt: 'prompt',
};
/** Subtrees that are the client's own words (schemas, metadata), not references: their keys are free. */
const OWN_WORDS = new Set(['parameters', 'json_schema', 'schema', 'metadata']);

/** What stored thing a request body names (a file, a response, ...), or undefined: keys and `item_reference` items, not text. */
function storedReference(value: unknown, depth = 0): string | undefined {
  if (depth > 64 || !value || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = storedReference(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const object = value as Record<string, unknown>;
  if (object.type === 'item_reference') return 'response item';
  for (const [key, inner] of Object.entries(object)) {
    // A `prompt` of the Responses API names a stored template (an object), a completion's is text; a
    // `container` or `container_id` names a stored one by id (a string: a shell tool's `container_reference`, a replayed
    // `code_interpreter_call`), a new one is an object (its file_ids looked at below).
    const names = key === 'prompt' ? typeof inner === 'object' : key === 'container' || key === 'container_id' ? typeof inner === 'string' : true;
    if (STORED[key] && inner !== null && names) return STORED[key];
    if (OWN_WORDS.has(key)) continue;
    const found = storedReference(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
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
