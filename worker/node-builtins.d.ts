/**
 * The parts of Node's built-in modules the Workers use (nodejs_compat
 * provides them, natively). Declared here rather than pulling @types/node
 * into the Workers' types, whose globals differ from the runtime's.
 */
declare module 'node:zlib' {
  export function gzipSync(data: string | Uint8Array, options?: { level?: number }): Uint8Array;
  export function gunzipSync(data: Uint8Array): Uint8Array & { toString(encoding: 'utf8'): string };
}

declare module 'node:crypto' {
  interface Hmac {
    update(data: string): Hmac;
    digest(encoding: 'base64url' | 'hex'): string;
  }
  export function createHmac(algorithm: 'sha256', key: string): Hmac;
}
