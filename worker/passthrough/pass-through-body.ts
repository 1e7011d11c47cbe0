/**
 * A pass-through request's body as the gateway reads it (bounded, its JSON when it is a JSON object), and
 * what a virtual key may not send through: the metadata the gateway keeps on a provider's objects.
 */
import { GatewayError } from '../errors.ts';
import { bodyLimit, DEFAULT_MAX_BODY_BYTES, readBoundedBytes } from '../openai/read-body.ts';
import type { GatewayState } from '../state.ts';

/** A body the gateway did not read as a JSON object: compressed, JSON it cannot parse, or another content type. */
export interface OpaqueBody {
  kind: 'compressed' | 'invalid-json' | 'other';
  bytes: Uint8Array;
}

/** The request's body, bounded by `max_request_size_mb`, its JSON when it is a JSON object, else what it is. */
export async function readPassThroughBody(request: Request, state: GatewayState): Promise<{ bytes: Uint8Array | undefined; json: Record<string, unknown> | undefined; opaque?: OpaqueBody }> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return { bytes: undefined, json: undefined };
  const bytes = await readBoundedBytes(request, bodyLimit(state.config).maxBytes ?? DEFAULT_MAX_BODY_BYTES);
  // An empty body (an SDK's POST to .../cancel says application/json and sends nothing) is no body.
  if (bytes.every((b) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09)) return { bytes, json: undefined };
  const encoding = request.headers.get('content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return { bytes, json: undefined, opaque: { kind: 'compressed', bytes } };
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(request.headers.get('content-type') ?? '')) return { bytes, json: undefined, opaque: { kind: 'other', bytes } };
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return json && typeof json === 'object' && !Array.isArray(json) ? { bytes, json: json as Record<string, unknown> } : { bytes, json: undefined, opaque: { kind: 'other', bytes } };
  } catch {
    // The provider judges its own body: passed on as it came (but for keys' bodies that could name the gateway's metadata).
    return { bytes, json: undefined, opaque: { kind: 'invalid-json', bytes } };
  }
}

/**
 * A key may not write the metadata the gateway keeps on a provider's objects (`tollgate_owner`,
 * `tollgate_model_id` on batches and fine-tuning jobs): through the pass-through it could name itself the
 * owner of an object made of another owner's files, which the gateway's own routes would then show it.
 */
export function refuseGatewayMetadata(body: Record<string, unknown>, opaque: OpaqueBody | undefined): void {
  if (opaque) {
    // What the gateway cannot read, a lenient provider might: compressed or broken JSON from a key is refused,
    // another content type judged by its text (escapes undone).
    const why = opaque.kind === 'compressed' ? 'a compressed body (send it uncompressed)'
      : opaque.kind === 'invalid-json' ? 'a body that is not valid JSON'
        : namesGatewayMetadata(opaque.bytes) ? 'a body naming tollgate_ metadata (send it as application/json)' : undefined;
    if (why) throw new GatewayError(`The gateway does not pass on ${why} to a provider's API for a virtual key`, { status: 400, type: 'invalid_request_error', param: 'metadata' });
  }
  const metadata = body.metadata;
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) return;
  const taken = Object.keys(metadata).find((name) => name.startsWith('tollgate_'));
  if (taken) {
    throw new GatewayError(`metadata.${taken.slice(0, 100)}: metadata keys starting with tollgate_ are the gateway's own`, {
      status: 400, type: 'invalid_request_error', param: 'metadata',
    });
  }
}

/** Whether a body's text names `tollgate_`, any `\uXXXX` escapes undone (a lenient JSON reader would undo them). */
function namesGatewayMetadata(bytes: Uint8Array): boolean {
  // In slices, so a large upload (a file, audio) is never held as a whole string: each slice overlaps the last
  // by more than the longest escaped form of `tollgate_` (9 characters of 6 each).
  const SLICE = 1 << 20;
  const OVERLAP = 64;
  for (let start = 0; start < bytes.length; start += SLICE) {
    const text = new TextDecoder().decode(bytes.subarray(Math.max(0, start - OVERLAP), Math.min(bytes.length, start + SLICE)));
    const plain = text.includes('\\u') ? text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : text;
    if (/tollgate_/i.test(plain)) return true;
  }
  return false;
}
