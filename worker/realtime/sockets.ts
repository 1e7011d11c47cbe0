/**
 * A Realtime session's two sockets: opening the upstream one (the group's deployments in turn, within their
 * budgets), the key a browser sends in a subprotocol, and closing a socket with what the protocol allows.
 */
import { GatewayError } from '../errors.ts';
import type { BudgetHold, BudgetRefusal } from '../limits/budget-hold.ts';
import { type DeploymentRef, pickDeployment } from '../models/deployments.ts';
import { upstreamError } from '../providers/openai-compatible/errors.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { realtimeTarget } from './upstream.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';

// A browser cannot set headers on a WebSocket: OpenAI's clients put the key in a subprotocol instead.
export const KEY_PROTOCOL = 'openai-insecure-api-key.';
// A deployment that does not open its socket is left for the group's next one, at most this many in all.
const MAX_ATTEMPTS = 3;
// Close codes an endpoint may send (RFC 6455 §7.4.1), beside the 3000-4999 range.
const SENDABLE_CODES = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011]);

/**
 * Closes a socket with a code it may send (1005 says none was sent: 1000; 1006, 1015 and unknown codes become
 * 1011) and a reason within the protocol's 123 bytes; a socket already closed is left.
 */
export function closeQuietly(socket: WebSocket, code: number, reason: string): void {
  const sendable = SENDABLE_CODES.has(code) || (code >= 3000 && code < 5000) ? code : code === 1005 ? 1000 : 1011;
  let text = reason;
  while (new TextEncoder().encode(text).length > 123) text = text.slice(0, -1);
  try {
    socket.close(sendable, text);
  } catch {
    try {
      socket.close(1011);
    } catch {
      // Already closed.
    }
  }
}

export type Opened =
  | { socket: WebSocket; deployment: DeploymentRef; apiBase: string; hold: BudgetHold | undefined }
  | { socket?: undefined; error: GatewayError; apiBase: string };

/** The first of the group's deployments (its usual pick first) whose budgets have room and whose socket opens. */
export async function openUpstream(c: { env: Record<string, unknown>; executionCtx: { waitUntil(p: Promise<unknown>): void } }, deployments: DeploymentRef[], options: {
  beta: boolean; extra: Record<string, string>; timeoutMs: number; hold(d: DeploymentRef): Promise<BudgetHold | BudgetRefusal> | undefined;
}): Promise<Opened> {
  const first = pickDeployment(deployments) ?? deployments[0]!;
  const order = [first, ...deployments.filter((d) => d !== first)].slice(0, MAX_ATTEMPTS);
  let last: Opened | undefined;
  for (const deployment of order) {
    let apiBase = '';
    const held = await options.hold(deployment);
    if (held && 'refused' in held) {
      last = { apiBase, error: new GatewayError(held.refused, { status: 429, type: 'budget_exceeded' }) };
      continue;
    }
    try {
      // A key a secret manager holds is read (or taken from this isolate's cache) for the upstream socket only.
      const target = realtimeTarget(await deploymentWithSecrets(deployment, c.env), c.env, options.extra);
      apiBase = target.apiBase;
      const res = await fetch(target.url, {
        headers: { ...target.headers, upgrade: 'websocket', ...(options.beta ? { 'openai-beta': 'realtime=v1' } : {}) },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (res.webSocket) {
        res.webSocket.accept();
        return { socket: res.webSocket, deployment, apiBase, hold: held };
      }
      if (held) c.executionCtx.waitUntil(held.release());
      last = { apiBase, error: await upstreamError(res, 'Realtime', deployment.provider, [target.secret]) };
      // The client's own mistakes are the same at every deployment.
      if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 401 && res.status !== 403) break;
    } catch (err) {
      if (held) c.executionCtx.waitUntil(held.release());
      last = { apiBase, error: err instanceof GatewayError ? err : new GatewayError('Realtime upstream could not be reached', { status: 502, type: 'internal_server_error' }) };
    }
  }
  return last!;
}

/** The request's headers with a browser's subprotocol key as its key, when no header carries one. */
export function withProtocolKey(headers: RequestHeaders, protocols: string[]): RequestHeaders {
  const key = protocols.find((p) => p.startsWith(KEY_PROTOCOL))?.slice(KEY_PROTOCOL.length);
  if (!key || headers.get('authorization') || headers.get('api-key') || headers.get('x-api-key') || headers.get('x-litellm-api-key')) return headers;
  return { get: (name) => (name.toLowerCase() === 'authorization' ? `Bearer ${key}` : headers.get(name)), forEach: headers.forEach };
}
