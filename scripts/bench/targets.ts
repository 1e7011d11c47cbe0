import type { Target } from './measure.ts';
import { MASTER_KEY, VIRTUAL_KEY } from './stack.ts';

/** The paths measured side by side (the gateway twice: the virtual key's admission, and the master key's none). */
export type PathName = 'direct' | 'floor' | 'gateway' | 'gatewayMaster';

/** A path's requests, plain and streamed, and the workerd process serving it (none for direct). */
export interface PathTarget {
  plain: Target;
  stream: Target;
  pid?: number;
}

/** The chat request every path is sent. */
function benchBody(stream: boolean): string {
  return JSON.stringify({ model: 'bench-gpt', stream, messages: [{ role: 'user', content: 'Hello, how are you today?' }] });
}

/** A plain chat request to `baseUrl`. */
export function chatTarget(baseUrl: string, headers: Record<string, string> = {}, stream = false): Target {
  return { url: `${baseUrl}/v1/chat/completions`, body: benchBody(stream), headers };
}

function path(baseUrl: string, headers: Record<string, string>, pid?: number): PathTarget {
  return { plain: chatTarget(baseUrl, headers), stream: chatTarget(baseUrl, headers, true), ...(pid === undefined ? {} : { pid }) };
}

export function benchTargets(upstreamUrl: string, floor: { url: string; pid: number }, gateway: { url: string; pid: number }): Record<PathName, PathTarget> {
  return {
    direct: path(upstreamUrl, {}),
    floor: path(floor.url, {}, floor.pid),
    gateway: path(gateway.url, { authorization: `Bearer ${VIRTUAL_KEY}` }, gateway.pid),
    gatewayMaster: path(gateway.url, { authorization: `Bearer ${MASTER_KEY}` }, gateway.pid),
  };
}
