/**
 * The headers an A2A call carries to its agent beyond the gateway's own, as LiteLLM builds them: the client's
 * headers the agent's `extra_headers` names, the client's `x-a2a-{agent_id or agent_name}-{header}` headers
 * (sent as `{header}`, to that agent only), then the agent's `api_key` and `static_headers` over both (a static
 * header wins, its name compared without case). The gateway key the client presented never goes on, under any name.
 */
import { presentedKey } from '../auth/credentials.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { isSensitiveHeader } from '../models/public-params.ts';
import { isSealed, sealValues } from '../models/db-models.ts';
import { isObject, type Json } from '../json.ts';

/**
 * Names a client may not set on the agent's request: framing and hop-by-hop headers the runtime owns (every
 * `content-*` and `accept-*` one: the gateway's body and answer are its own), and the `x-litellm-*` headers the gateway sets itself (x-litellm-user-id, x-litellm-team-id: a client naming them
 * would speak for another user).
 */
const RESERVED = new Set(['host', 'accept', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);
const RESERVED_PREFIXES = ['content-', 'accept-', 'x-litellm-', 'proxy-', 'cf-'];
const isReserved = (name: string) => RESERVED.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p));

/** What of an agent the headers depend on. */
export interface HeaderRules {
  agent_id: string;
  agent_name: string;
  staticHeaders: Readonly<Record<string, string>>;
  extraHeaders: readonly string[];
  apiKey?: string;
}

/** An agent as `x-a2a-{agent}-{header}` may name it. */
export type AgentNames = Pick<HeaderRules, 'agent_id' | 'agent_name'>;

/**
 * The header an `x-a2a-{agent}-{header}` request header (lower-cased) carries to `agent`, if it is addressed to
 * it: the longest agent prefix (id or name, without case) among all the gateway's agents claims a header, so
 * `x-a2a-a-b-token` goes to agent `a-b` (as `token`), never to agent `a` (as `b-token`); a header two agents
 * claim alike (names differing only in case) goes to neither, as MCP's `x-mcp-<server>-*` (mcp/access.ts).
 */
function addressedHeader(lower: string, agent: AgentNames, all: readonly AgentNames[]): string | undefined {
  let best = 0;
  let owners = new Set<string>();
  for (const other of all.some((a) => a.agent_id === agent.agent_id) ? all : [...all, agent]) {
    for (const name of [other.agent_id, other.agent_name]) {
      const prefix = `x-a2a-${name.toLowerCase()}-`;
      if (prefix.length < best || !lower.startsWith(prefix)) continue;
      if (prefix.length > best) [best, owners] = [prefix.length, new Set()];
      owners.add(other.agent_id);
    }
  }
  return owners.size === 1 && owners.has(agent.agent_id) ? lower.slice(best) : undefined;
}

/**
 * The headers the call carries for the agent, lowest first: the client's forwarded ones, the agent's `api_key`
 * (`Authorization: Bearer`), its `static_headers` (names compared without case; the last set wins). `unlogged`
 * names the client headers passed on and every `x-a2a-*` one (whichever agent it is for), left out of what is
 * logged (they are agents', often their credentials).
 * `keyHeader` is `litellm_key_header_name`, where the gateway key may come; `all` the gateway's agents, which
 * `x-a2a-{agent}-*` headers may be addressed to instead.
 */
export function agentHeaders(agent: HeaderRules, client: RequestHeaders, keyHeader: string | undefined, all: readonly AgentNames[]): { headers: Headers; unlogged: string[] } {
  const gatewayKey = presentedKey(client, keyHeader);
  const headers = new Headers();
  const unlogged: string[] = [];
  const take = (from: string, name: string, value: string) => {
    const lower = name.toLowerCase();
    if (!lower || isReserved(lower)) return;
    // However the client names it, the key that admitted the call is the gateway's, never the agent's.
    if (gatewayKey && value.includes(gatewayKey)) return;
    headers.set(lower, value);
    unlogged.push(from);
  };
  for (const name of agent.extraHeaders) {
    const value = client.get(name);
    if (value !== null) take(name.toLowerCase(), name, value);
  }
  // x-a2a-{id}-{header} and x-a2a-{name}-{header}, matched without case, as LiteLLM matches them.
  client.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-a2a-')) return;
    unlogged.push(lower);
    const header = addressedHeader(lower, agent, all);
    if (header) take(lower, header, value);
  });
  if (agent.apiKey) headers.set('authorization', `Bearer ${agent.apiKey}`);
  for (const [name, value] of Object.entries(agent.staticHeaders)) if (!isReserved(name.toLowerCase())) headers.set(name, value);
  return { headers, unlogged };
}

/** A `static_headers` value as stored: auth-like ones (Authorization, X-Api-Key, ...) sealed as MCP servers' are. */
export const sealStaticHeaders = (key: CryptoKey, headers: Record<string, unknown>): Promise<Record<string, unknown>> =>
  sealValues(key, headers, 'agent.static_headers', (name, value) => typeof value === 'string' && isSensitiveHeader(name));

/** `static_headers` as they may be shown: auth-like ones (sealed or not) left out. */
export function shownStaticHeaders(headers: unknown): Json {
  const out: Json = {};
  if (!isObject(headers)) return out;
  for (const [name, value] of Object.entries(headers)) if (!isSensitiveHeader(name) && !isSealed(value)) out[name] = value;
  return out;
}

/** Only string header values, each name at most once: what an agent's stored or configured `static_headers` hold. */
export function headerRecord(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
