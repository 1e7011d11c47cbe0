/**
 * The A2A agents the gateway fronts: those added through `/v1/agents` (LiteLLM_AgentsTable). The rows are
 * re-read in the background by a request 2 s or more after the last read began, as stored MCP servers are (mcp/servers.ts), and at once when
 * a request names an agent this isolate does not know yet: no Postgres round trip per call. The agent's
 * `api_key` is sealed at rest as models' credentials are; the admin Worker seals with `sealAgentParams` (and
 * auth-like `static_headers` with `sealStaticHeaders`).
 */
import { agents as agentsTable, type AgentRow } from '../../drizzle/schema/agents.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import { StampedRows } from '../db/stamped.ts';
import { toHex } from '../auth/secrets.ts';
import { isObject, type Json } from '../json.ts';
import { isSealed, openValues, sealingKey, sealingSecret, sealValues } from '../models/db-models.ts';
import { isCredentialField, isSensitiveHeader } from '../models/public-params.ts';
import type { GatewayState } from '../state.ts';
import { log } from '../telemetry/log.ts';
import { headerRecord, shownStaticHeaders } from './agent-headers.ts';

/** One agent as the gateway calls it. */
export interface Agent {
  agent_id: string;
  agent_name: string;
  /** The AgentCard as stored (its `url` is the agent's own: shown to the master key only). */
  card: Json;
  /** Where calls go: `litellm_params.api_base`, else the card's `url`. */
  url: string;
  /** The agent's own credential, sent as `Authorization: Bearer` (never the caller's key). */
  apiKey?: string;
  /** `litellm_params.cost_per_query`: what one `message/send` or `message/stream` costs (0 when unset). */
  costPerQuery: number;
  accessGroups: readonly string[];
  /** `static_headers`: sent on every call, over the client's forwarded headers (agent-headers.ts). */
  staticHeaders: Readonly<Record<string, string>>;
  /** `extra_headers`: names of the client's headers passed on to the agent. */
  extraHeaders: readonly string[];
  /** LiteLLM's agent-level `rpm_limit` / `tpm_limit` (agent-limits.ts); null when unset. */
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** `litellm_params` without credentials, as `/v1/agents` shows them. */
  publicParams: Json;
  /** `static_headers` without the auth-like ones, as `/v1/agents` shows them. */
  publicStaticHeaders: Json;
  /** Null for config.yaml's agents. */
  created_at: Date | null;
  updated_at: Date | null;
}

export type Agents = readonly Agent[];

/** A list older than this (an isolate idle a while) is read afresh before it is used: a deleted agent stays deleted. */
const STALE_AFTER_MS = 15_000;

/** The prefix sealed `litellm_params` fields are sealed under (the field name is the additional data). */
const SEAL_PREFIX = 'agent.litellm_params';

let cached: { state: GatewayState; agents: Refreshed<Agents> } | undefined;

/** The agent an A2A path names: by id, else by name (LiteLLM looks agents up both ways). */
export function agentNamed(agents: Agents, idOrName: string): Agent | undefined {
  return agents.find((a) => a.agent_id === idOrName) ?? agents.find((a) => a.agent_name === idOrName);
}

/**
 * config.yaml's agents and the stored ones, kept as db/refreshed.ts keeps a value: a request waits for a fresh
 * read when the isolate's first read has not ended, or (unless a read failed within the last 2 s) when its list
 * is older than STALE_AFTER_MS or it names an agent the list does not hold. Only the A2A routes call this: a chat call never does.
 */
export async function storedAgents(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, names: readonly string[] = []): Promise<Agents> {
  if (cached?.state !== state) {
    const configured = await configAgents(state);
    // config.yaml's first; a stored agent never takes a config agent's name (the admin Worker refuses one).
    const taken = new Set(configured.map((a) => a.agent_name));
    const load = async (scope: WaitUntil) => [
      ...configured, ...(await readAgents(env as Record<string, unknown> & DatabaseEnv, sealingSecret(env, state.masterKey), scope)).filter((a) => !taken.has(a.agent_name)),
    ];
    cached = { state, agents: new Refreshed<Agents>(configured, 'stored A2A agents', load) };
  }
  const { agents } = cached;
  // Within 2 s of a failed read (Postgres down) requests answer from the list the isolate has (config.yaml's alone
  // until a read lands); after that they wait again, sharing one read, as stored MCP servers do, so an isolate that
  // sat idle after a failed read reads again before serving a deleted agent (while reads keep failing, its last
  // list is served).
  const mustWait = agents.settledAt === 0 || (!agents.backingOff
    && (Date.now() - agents.loadedAt >= STALE_AFTER_MS || names.some((n) => !agentNamed(agents.value, n))));
  return agents.current(ctx, mustWait);
}

/** config.yaml's `agent_list` (its `os.environ/` values already resolved), each under LiteLLM's id for it: the SHA-256 hex of its name. */
async function configAgents(state: GatewayState): Promise<Agent[]> {
  const out: Agent[] = [];
  for (const entry of state.config.agent_list ?? []) {
    const id = toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(entry.agent_name)));
    const agent = agentOf(id, entry.agent_name, entry.litellm_params as Json, entry.agent_card_params as Json, entry.agent_access_groups, entry, null);
    if (agent) out.push(agent);
  }
  return out;
}

async function readAgents(env: Record<string, unknown> & DatabaseEnv, secret: string | undefined, ctx: WaitUntil): Promise<Agents> {
  // A gateway without a database serves config.yaml's agents only.
  if (!env.DATABASE_URL) return [];
  const database = openDatabase(env);
  let rows: AgentRow[];
  try {
    rows = await database.db.select().from(agentsTable).catch((err: unknown) => {
      // A database not yet migrated to 0011 has no agents.
      if (pgCode(err) === UNDEFINED_TABLE) return [];
      throw err;
    });
  } finally {
    ctx.waitUntil(database.close());
  }
  const key = secret ? await sealingKey(secret) : undefined;
  const out: Agent[] = [];
  for (const row of rows) {
    const agent = await opened.get(row.agent_id, JSON.stringify([row, secret !== undefined]), () => openedAgent(row, key));
    if (agent) out.push(agent);
  }
  opened.forgetUnseen();
  return out;
}

/** Opened rows by agent_id, reused while the row is unchanged (nothing is decrypted again). */
const opened = new StampedRows<Agent | undefined>();

/** A stored row as the gateway calls it; undefined (logged) when its credential does not open or it has no URL. */
async function openedAgent(row: AgentRow, key: CryptoKey | undefined): Promise<Agent | undefined> {
  const what = `A2A agent ${row.agent_name} (${row.agent_id})`;
  const stored = isObject(row.litellm_params) ? row.litellm_params : {};
  let params: Json;
  let headers: Record<string, unknown>;
  try {
    params = await openDeep(key, stored, SEAL_PREFIX) as Json;
    headers = await openValues(key, isObject(row.static_headers) ? row.static_headers : {}, 'agent.static_headers');
  } catch {
    log.error(`${what}: its api_key (or a static header) does not open with this LITELLM_SALT_KEY (or there is none); not served`);
    return undefined;
  }
  const extras: AgentExtras = { static_headers: headers, extra_headers: row.extra_headers, rpm_limit: row.rpm_limit, tpm_limit: row.tpm_limit, shownHeaders: row.static_headers };
  return agentOf(row.agent_id, row.agent_name, params, isObject(row.agent_card_params) ? row.agent_card_params : {}, row.agent_access_groups, extras, row);
}

/** An agent's top-level header and limit fields (LiteLLM's AgentConfig has them beside `litellm_params`), opened. */
interface AgentExtras {
  static_headers?: unknown;
  extra_headers?: readonly string[] | null;
  rpm_limit?: number | null;
  tpm_limit?: number | null;
  /** The stored (sealed) headers, when they differ from the opened ones: what may be shown of them. */
  shownHeaders?: unknown;
}

const positive = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null);

/** An agent from its opened params and card; undefined (logged) when it has no URL to call. */
function agentOf(id: string, name: string, params: Json, card: Json, accessGroups: readonly string[], extras: AgentExtras, row: Pick<AgentRow, 'created_at' | 'updated_at'> | null): Agent | undefined {
  const url = agentUrl(params, card);
  if (!url) {
    log.error(`A2A agent ${name} (${id}): no http(s) url in agent_card_params.url or litellm_params.api_base; not served`);
    return undefined;
  }
  const cost = params.cost_per_query;
  return {
    agent_id: id, agent_name: name, card, url,
    ...(typeof params.api_key === 'string' && params.api_key ? { apiKey: params.api_key } : {}),
    costPerQuery: typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : 0,
    accessGroups, staticHeaders: headerRecord(extras.static_headers), extraHeaders: extras.extra_headers ?? [],
    rpmLimit: positive(extras.rpm_limit), tpmLimit: positive(extras.tpm_limit),
    publicParams: withoutCredentials(params), publicStaticHeaders: shownStaticHeaders(extras.shownHeaders ?? extras.static_headers), created_at: row?.created_at ?? null, updated_at: row?.updated_at ?? null,
  };
}

/** Where an agent's calls go: `litellm_params.api_base` (or `url`), else the card's `url`; only http(s). */
export function agentUrl(params: Json, card: Json): string | undefined {
  for (const candidate of [params.api_base, params.url, card.url]) {
    if (typeof candidate !== 'string' || !candidate) continue;
    try {
      const url = new URL(candidate);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    } catch { /* not a URL: the next one */ }
  }
  return undefined;
}

/** A string named like a credential or an auth header (`api_key`, `client_secret`, `Authorization`, ...), at any depth of `litellm_params`. */
const isSecretField = (name: string, value: unknown) => typeof value === 'string' && (isCredentialField(name, value) || isSensitiveHeader(name));

/** `litellm_params` as they may be shown: every credential field (api_key, headers.Authorization, ...) left out at any depth, sealed or not. */
export function withoutCredentials(params: Json): Json {
  const out: Json = {};
  for (const [name, value] of Object.entries(params)) {
    if (isSecretField(name, value) || isSealed(value)) continue;
    out[name] = isObject(value) ? withoutCredentials(value) : value;
  }
  return out;
}

/** What the admin Worker stores of an agent's `litellm_params`: credential fields sealed at any depth (nested objects such as `headers` too), the rest as given. */
export async function sealAgentParams(key: CryptoKey, params: Record<string, unknown>, prefix = SEAL_PREFIX): Promise<Record<string, unknown>> {
  const out = await sealValues(key, params, prefix, isSecretField);
  for (const [name, value] of Object.entries(params)) if (isObject(value)) out[name] = await sealAgentParams(key, value, `${prefix}.${name}`);
  return out;
}

/** sealAgentParams' inverse: every sealed value opened, at any depth; throws without a key, or with the wrong one. */
async function openDeep(key: CryptoKey | undefined, params: Record<string, unknown>, prefix: string): Promise<Record<string, unknown>> {
  const out = await openValues(key, params, prefix);
  for (const [name, value] of Object.entries(params)) if (isObject(value)) out[name] = await openDeep(key, value, `${prefix}.${name}`);
  return out;
}
