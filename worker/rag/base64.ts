/** Base64 characters decoded per atob call (a multiple of 4): no whole-document binary string. */
const DECODE_CHUNK = 1024 * 1024;

/**
 * Base64 into one preallocated array (`Uint8Array.fromBase64` where the runtime has it), never a JS array
 * of numbers (8 bytes a byte), which made a large document exhaust the isolate's memory.
 */
export function base64Bytes(text: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  return typeof native === 'function' ? native(text) : chunkedBase64(text);
}

/** The fallback of base64Bytes: atob a megabyte of text at a time, each byte written into the array. */
export function chunkedBase64(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error('not base64');
  // Padding (or its absence) leaves at most 2 bytes unused: the array is trimmed to what was decoded.
  const bytes = new Uint8Array(Math.ceil((text.length * 3) / 4));
  let at = 0;
  for (let start = 0; start < text.length; start += DECODE_CHUNK) {
    const binary = atob(text.slice(start, start + DECODE_CHUNK));
    for (let i = 0; i < binary.length; i++) bytes[at++] = binary.charCodeAt(i);
  }
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}
