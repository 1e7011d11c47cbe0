/**
 * A fake Braintrust API on loopback (`/v1`): `POST /v1/project` and `POST /v1/project/register` with `{name}`
 * answer the project (`{id, name, org_id, ...}`, made on first sight, the same id after), and
 * `POST /v1/project_logs/<project_id>/insert` with `{events: [...]}` answers `{row_ids}` for a known project
 * (404 otherwise). `Authorization: Bearer <key>` is required (401 otherwise), JSON content; each event is checked
 * for what LiteLLM sends (`id`, `span_attributes`, object `metadata`, numeric `metrics`) and a malformed one is a
 * 400. Braintrust keeps one row per event id: an id sent again replaces its row. It can be told to fail the next
 * inserts with a status (echoing the key sent, as a careless error page does, with `echo`), and to refuse a project name.
 */
import { randomUUID } from 'node:crypto';
import { jsonBody, serveBodies } from './fake-server.ts';

export interface BraintrustInsert { projectId: string; headers: Record<string, string>; events: Record<string, any>[] }

export interface FakeBraintrust {
  url: string;
  /** Inserts taken (200), in order. */
  inserts: BraintrustInsert[];
  /** Project requests: the path and name asked for. */
  projectCalls: { path: string; name: string }[];
  /** Project ids by name. */
  projects: Map<string, string>;
  /** Inserts answered with a failNext() status. */
  refused: number[];
  /** Requests that were not what Braintrust takes (path, key, body). */
  malformed: string[];
  /** Project ids of inserts answered 404 (no such project). */
  unknownProjects: string[];
  /** Rows by event id (the last insert of an id wins). */
  rows(): Map<string, { projectId: string; event: Record<string, any> }>;
  failNext(status: number, times?: number, options?: { echo?: boolean }): void;
  /** Answers registering (or making) the project of this name with this status from now on (undefined: takes it again). */
  refuseProject(name: string, status: number | undefined): void;
  close(): Promise<void>;
}

function eventProblem(event: Record<string, any>): string | undefined {
  if (typeof event.id !== 'string' || !event.id) return 'event without an id';
  if (!event.span_attributes || typeof event.span_attributes.name !== 'string') return 'event without span_attributes.name';
  if (!event.metadata || typeof event.metadata !== 'object' || Array.isArray(event.metadata)) return 'metadata is not an object';
  for (const [k, v] of Object.entries(event.metrics ?? {})) if (v !== null && typeof v !== 'number') return `metric ${k} is not a number`;
  return undefined;
}

export async function startFakeBraintrust(options: { apiKey: string; defaultProjectId?: string }): Promise<FakeBraintrust> {
  let failing = { status: 0, times: 0, echo: false };
  const refusedNames = new Map<string, number>();
  const fake: Omit<FakeBraintrust, 'url' | 'close'> = {
    inserts: [], projectCalls: [], projects: new Map(), refused: [], malformed: [], unknownProjects: [],
    rows() {
      const out = new Map<string, { projectId: string; event: Record<string, any> }>();
      for (const insert of fake.inserts) for (const event of insert.events) out.set(event.id, { projectId: insert.projectId, event });
      return out;
    },
    failNext(status, times = 1, opts = {}) {
      failing = { status, times, echo: opts.echo === true };
    },
    refuseProject(name, status) {
      if (status === undefined) refusedNames.delete(name);
      else refusedNames.set(name, status);
    },
  };
  const server = await serveBodies('fake Braintrust', (req, res, raw, headers) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (headers.authorization !== `Bearer ${options.apiKey}`) return answer(401, { error: 'Invalid API key' });
    let body: any;
    try {
      body = jsonBody(headers, raw);
    } catch (err) {
      fake.malformed.push(String(err));
      return answer(400, { error: 'malformed JSON' });
    }
    const path = req.url ?? '';
    if (req.method === 'POST' && (path === '/v1/project' || path === '/v1/project/register')) {
      if (typeof body?.name !== 'string' || !body.name) return answer(400, { error: 'name is required' });
      fake.projectCalls.push({ path, name: body.name });
      const refusal = refusedNames.get(body.name);
      if (refusal) return answer(refusal, { error: `project ${body.name} refused by the test` });
      let id = fake.projects.get(body.name);
      if (!id) fake.projects.set(body.name, (id = body.name === 'litellm' && options.defaultProjectId ? options.defaultProjectId : randomUUID()));
      return answer(200, { id, name: body.name, org_id: 'org-test', created: new Date().toISOString() });
    }
    const m = /^\/v1\/project_logs\/([^/]+)\/insert$/.exec(path);
    if (req.method !== 'POST' || !m) {
      fake.malformed.push(`${req.method} ${path}`);
      return answer(404, { error: 'Not Found' });
    }
    const projectId = decodeURIComponent(m[1]!);
    if (![...fake.projects.values()].includes(projectId)) {
      fake.unknownProjects.push(projectId);
      return answer(404, { error: `project ${projectId} not found` });
    }
    if (!Array.isArray(body?.events)) return answer(400, { error: 'events must be an array' });
    for (const event of body.events) {
      const problem = eventProblem(event);
      if (problem) {
        fake.malformed.push(problem);
        return answer(400, { error: problem });
      }
    }
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.status);
      return answer(failing.status, { error: `refused by the test${failing.echo ? `: ${headers.authorization}` : ''}` });
    }
    fake.inserts.push({ projectId, headers, events: body.events });
    return answer(200, { row_ids: body.events.map((e: any) => e.id) });
  });
  return Object.assign(fake, server);
}
