/**
 * The fake Langfuse's prompts API (test/fakes/langfuse.ts routes to it): `GET /api/public/v2/prompts/{name}`
 * with `?version=N` or `?label=L` (neither: the `production` label; `latest` is the newest version, as Langfuse
 * keeps it), HTTP basic auth with the project's keys, answered as Langfuse answers: the prompt version
 * (`{name, version, type, prompt, config, labels, tags}`), 401 for other keys, 400 for a version and a label
 * together, 404 `LangfuseNotFoundError` for an unknown name, version or label. A name can be told to fail
 * with a 500 (its body echoing the request's credentials, which the gateway must not pass on) or to hang.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LangfusePromptVersion {
  version: number;
  type: 'text' | 'chat';
  prompt: unknown;
  config?: unknown;
  labels?: string[];
}

export interface LangfusePromptStore {
  /** Each prompt name's versions, or what the name's requests get instead. */
  prompts: Map<string, LangfusePromptVersion[] | 'fail' | 'hang'>;
  /** Each prompts request, in order. */
  requests: { name: string; query: Record<string, string>; authorization: string | undefined }[];
}

export const PROMPTS_PATH = '/api/public/v2/prompts/';

export function newPromptStore(): LangfusePromptStore {
  return { prompts: new Map(), requests: [] };
}

/** Answers one prompts request; `expected` is the Authorization header the project's keys make. */
export function servePrompt(store: LangfusePromptStore, expected: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://fake');
  const name = decodeURIComponent(url.pathname.slice(PROMPTS_PATH.length));
  const query = Object.fromEntries(url.searchParams);
  store.requests.push({ name, query, authorization: req.headers.authorization });
  const answer = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (req.headers.authorization !== expected) return answer(401, { message: 'Invalid credentials. Confirm that you\'ve configured the correct host.' });
  const held = store.prompts.get(name);
  if (held === 'hang') return;
  if (held === 'fail') return answer(500, { message: `Internal Server Error (${req.headers.authorization})` });
  if (query.version !== undefined && query.label !== undefined) return answer(400, { message: 'Cannot specify both version and label' });
  const newest = Math.max(0, ...(held ?? []).map((v) => v.version));
  const label = query.label ?? 'production';
  const found = query.version !== undefined
    ? held?.find((v) => String(v.version) === query.version)
    : held?.find((v) => (label === 'latest' ? v.version === newest : v.labels?.includes(label)));
  if (!found) return answer(404, { message: 'Prompt not found', error: 'LangfuseNotFoundError' });
  answer(200, { id: `prompt-${name}-${found.version}`, name, config: {}, labels: [], tags: [], commitMessage: null, ...found });
}
