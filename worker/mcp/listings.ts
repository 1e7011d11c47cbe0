/**
 * What MCP servers offer (tools, prompts, resources, resource templates), each list read whole (every page, in
 * one session) and kept LIST_CACHE_MS: a client listing often does not list the server as often. Lists are
 * kept by the server object (config.yaml's, or a stored row's while it is unchanged), so a changed server is
 * listed afresh.
 */
import { isObject, type Json } from '../json.ts';
import { toolOffered } from './access.ts';
import type { McpServer } from './schema.ts';
import { McpError, METHOD_NOT_FOUND } from './json-rpc.ts';
import { withServer } from './upstream.ts';
import { log } from '../telemetry/log.ts';

/** How long listing a server (every page) may take; a server that does not answer in time is left out. */
const LIST_TIMEOUT_MS = 30_000;
const LIST_CACHE_MS = 30_000;
/** Pages read at most (a server that pages forever is cut off). */
const MAX_PAGES = 20;

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

const METHODS: Record<ListKind, string> = {
  tools: 'tools/list', prompts: 'prompts/list', resources: 'resources/list', resourceTemplates: 'resources/templates/list',
};

const listed = new WeakMap<McpServer, Map<ListKind, { at: number; items: Promise<Json[] | undefined> }>>();

/**
 * A server's list of one kind (tools without those it may not offer); undefined (logged) when listing fails.
 * A server that does not offer the kind at all (method not found) has an empty list.
 */
export function serverList(name: string, server: McpServer, kind: ListKind): Promise<Json[] | undefined> {
  let kinds = listed.get(server);
  if (!kinds) listed.set(server, (kinds = new Map()));
  const cached = kinds.get(kind);
  if (cached && Date.now() - cached.at < LIST_CACHE_MS) return cached.items;
  const items = readList(name, server, kind);
  kinds.set(kind, { at: Date.now(), items });
  // A failure is not kept.
  void items.then((i) => i === undefined && kinds.get(kind)?.items === items && kinds.delete(kind));
  return items;
}

export const serverTools = (name: string, server: McpServer) => serverList(name, server, 'tools');

async function readList(name: string, server: McpServer, kind: ListKind): Promise<Json[] | undefined> {
  try {
    // Every page in one session (an HTTP+SSE server's cursors are its session's).
    const items = await withServer(name, server, LIST_TIMEOUT_MS, async (request) => {
      const all: Json[] = [];
      let cursor: unknown;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await request(METHODS[kind], cursor === undefined ? {} : { cursor });
        const got = result[kind];
        if (Array.isArray(got)) all.push(...got.filter(isObject));
        cursor = result.nextCursor;
        if (typeof cursor !== 'string' || !cursor) break;
      }
      return all;
    });
    return kind === 'tools' ? items.filter((t) => typeof t.name === 'string' && toolOffered(server, t.name)) : items;
  } catch (err) {
    if (err instanceof McpError && err.code === METHOD_NOT_FOUND) return [];
    log.error(`MCP server ${name}: listing its ${METHODS[kind].replace('/list', '')} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
