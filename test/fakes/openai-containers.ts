/**
 * The fake's Containers API (OpenAI's `/v1/containers`, Azure's `/openai/v1/containers`), served by
 * openai-batches.ts beside its files: a container's `file_ids` must be files of its account (copied in as
 * container files under `/mnt/data/`), a container file is added from a file id (JSON) or an upload
 * (multipart), and a Responses call whose `code_interpreter` tool (or shell tool's `container_reference`) names a container by id runs "in" it (a
 * container the account does not have is OpenAI's 404). Objects, pages and errors in OpenAI's wire format;
 * unknown fields are 400s, as OpenAI's are.
 */
import { responseObject, responsesUsage } from './openai-responses.ts';
import { type Answer, type Call, type FakeFile, invalid, invalidValue, isRecord, missing, newId, now, page, unrecognized } from './openai-batches-wire.ts';

/** `/containers[/{id}[/files[/{file_id}[/content]]]]`, after an account prefix. */
export const CONTAINER_ROUTE = /^(.*?)\/(v1|openai\/v1)\/containers(?:\/([^/]+))?(\/files)?(?:\/([^/]+))?(\/content)?$/;

const CREATE_FIELDS = new Set(['name', 'expires_after', 'file_ids', 'memory_limit', 'network_policy', 'skills']);
const MEMORY = ['1g', '4g', '16g', '64g'];

export interface FakeContainerFile {
  id: string;
  object: 'container.file';
  bytes: number;
  container_id: string;
  created_at: number;
  path: string;
  source: 'user';
}

export interface FakeContainer {
  id: string;
  object: 'container';
  created_at: number;
  status: 'running';
  expires_after: { anchor: 'last_active_at'; minutes: number };
  last_active_at: number;
  memory_limit: string;
  name: string;
  prefix: string;
  files: Map<string, FakeContainerFile & { content: Buffer }>;
}

export interface ContainersApi {
  containers: Map<string, FakeContainer>;
  /** Undefined for a method and path the API has no route for. */
  route(method: string, match: RegExpExecArray, call: Call): Promise<Answer | undefined>;
  /** `POST /v1/responses` whose `code_interpreter` tool names a container; undefined when none does. */
  respond(call: Call): Answer | undefined;
}

const view = ({ prefix: _p, files: _f, ...container }: FakeContainer) => container;
const fileView = ({ content: _c, ...file }: FakeContainerFile & { content: Buffer }): FakeContainerFile => file;

export function containersApi(files: Map<string, FakeFile>): ContainersApi {
  const containers = new Map<string, FakeContainer>();
  const notFound = (id: unknown) => invalid(`Container with id '${String(id)}' not found.`, null, null, 404);
  const fileOf = (prefix: string, id: unknown) => {
    const file = typeof id === 'string' ? files.get(id) : undefined;
    return file?.prefix === prefix ? file : undefined;
  };

  function addFile(container: FakeContainer, name: string, content: Buffer) {
    const file = { id: newId('cfile_'), object: 'container.file' as const, bytes: content.length, container_id: container.id, created_at: now(), path: `/mnt/data/${name}`, source: 'user' as const, content };
    container.files.set(file.id, file);
    return file;
  }

  function create(call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = Object.keys(body).find((name) => !CREATE_FIELDS.has(name));
    if (unknown) return unrecognized(unknown);
    if (typeof body.name !== 'string') return missing('name');
    if (body.memory_limit !== undefined && !MEMORY.includes(String(body.memory_limit))) return invalidValue('memory_limit', body.memory_limit, MEMORY);
    let minutes = 20;
    if (body.expires_after !== undefined) {
      const expiry = body.expires_after;
      if (!isRecord(expiry) || expiry.anchor !== 'last_active_at') return invalidValue('expires_after.anchor', isRecord(expiry) ? expiry.anchor : expiry, ['last_active_at']);
      if (!Number.isInteger(expiry.minutes) || (expiry.minutes as number) < 1 || (expiry.minutes as number) > 20) return invalid("Invalid 'expires_after.minutes': expected an integer between 1 and 20.", 'expires_after.minutes');
      minutes = expiry.minutes as number;
    }
    const ids = body.file_ids === undefined ? [] : body.file_ids;
    if (!Array.isArray(ids)) return invalid("Invalid type for 'file_ids': expected an array of strings.", 'file_ids', 'invalid_type');
    const copied = ids.map((id) => fileOf(call.prefix, id));
    const missingAt = copied.findIndex((file) => !file);
    if (missingAt >= 0) return invalid(`File ${String(ids[missingAt])} not found.`, `file_ids[${missingAt}]`, null, 404);
    const at = now();
    const container: FakeContainer = {
      id: newId('cntr_'), object: 'container', created_at: at, status: 'running', expires_after: { anchor: 'last_active_at', minutes }, last_active_at: at,
      memory_limit: String(body.memory_limit ?? '1g'), name: body.name, prefix: call.prefix, files: new Map(),
    };
    for (const file of copied) addFile(container, file!.filename, file!.content);
    containers.set(container.id, container);
    return { status: 200, body: view(container) };
  }

  async function createFile(container: FakeContainer, call: Call): Promise<Answer> {
    if (call.form) {
      const unknown = [...call.form.keys()].find((name) => name !== 'file' && name !== 'file_id');
      if (unknown) return unrecognized(unknown);
      const upload = call.form.get('file');
      if (upload === null || typeof upload === 'string') return missing('file');
      return { status: 200, body: fileView(addFile(container, upload.name, Buffer.from(await upload.arrayBuffer()))) };
    }
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    const unknown = Object.keys(body).find((name) => name !== 'file_id');
    if (unknown) return unrecognized(unknown);
    const file = fileOf(call.prefix, body.file_id);
    if (!file) return invalid(`File ${String(body.file_id)} not found.`, 'file_id', null, 404);
    return { status: 200, body: fileView(addFile(container, file.filename, file.content)) };
  }

  return {
    containers,
    async route(method, match, call) {
      const [, , , id, filesPart, fileId, content] = match;
      const container = id === undefined ? undefined : containers.get(decodeURIComponent(id));
      const visible = container?.prefix === call.prefix ? container : undefined;
      if (id !== undefined && !visible) return notFound(decodeURIComponent(id));
      const file = fileId === undefined ? undefined : visible!.files.get(decodeURIComponent(fileId));
      if (fileId !== undefined && !file) return invalid(`File with id '${decodeURIComponent(fileId)}' not found in container.`, null, null, 404);
      switch (`${method} ${id === undefined ? '' : 'id'}${filesPart ?? ''}${fileId === undefined ? '' : '/fid'}${content ?? ''}`) {
        case 'POST ':
          return create(call);
        case 'GET ':
          return page([...containers.values()].filter((c) => c.prefix === call.prefix).reverse(), call.query, 20, 100, view);
        case 'GET id':
          return { status: 200, body: view(visible!) };
        case 'DELETE id':
          containers.delete(visible!.id);
          return { status: 200, body: { id: visible!.id, object: 'container.deleted', deleted: true } };
        case 'POST id/files':
          return createFile(visible!, call);
        case 'GET id/files':
          return page([...visible!.files.values()].reverse(), call.query, 20, 100, fileView);
        case 'GET id/files/fid':
          return { status: 200, body: fileView(file!) };
        case 'DELETE id/files/fid':
          visible!.files.delete(file!.id);
          return { status: 200, body: { id: file!.id, object: 'container.file.deleted', deleted: true } };
        case 'GET id/files/fid/content':
          return { status: 200, body: file!.content };
        default:
          return undefined;
      }
    },
    respond(call) {
      const body = call.json;
      const tools = isRecord(body) && Array.isArray(body.tools) ? body.tools : [];
      // A code_interpreter tool's `container`, or a shell tool's `container_reference` environment.
      const named = tools.map((t) => (!isRecord(t) ? undefined
        : t.type === 'code_interpreter' ? t.container
          : t.type === 'shell' && isRecord(t.environment) && t.environment.type === 'container_reference' ? t.environment.container_id : undefined))
        .find((id): id is string => typeof id === 'string');
      if (named === undefined || !isRecord(body)) return undefined;
      const container = containers.get(named);
      if (container?.prefix !== call.prefix) return invalid(`Container with id '${named}' not found.`, 'tools[0].container', null, 404);
      const listing = [...container.files.values()].map((f) => f.path).join(', ');
      const response = responseObject(String(body.model), `ran in ${container.name}: ${listing || 'no files'}`, responsesUsage(10, 5)) as Record<string, unknown> & { output: Record<string, unknown>[] };
      // As OpenAI answers: the tools echoed, the code run in the container, a citation of a file it made.
      const ran = { type: 'code_interpreter_call', id: newId('ci_'), status: 'completed', code: 'print(1)', container_id: container.id, outputs: null };
      const message = response.output[0]!;
      const part = (message.content as Record<string, unknown>[])[0]!;
      part.annotations = [{ type: 'container_file_citation', container_id: container.id, file_id: 'cfile_out', filename: 'out.png', start_index: 0, end_index: 3 }];
      Object.assign(response, { tools, output: [ran, message] });
      if (body.stream !== true) return { status: 200, body: response };
      let sequence = 0;
      const event = (type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
      const pending = { ...response, status: 'in_progress', output: [], usage: null };
      const events = [
        event('response.created', { response: pending }),
        event('response.output_item.added', { output_index: 0, item: { ...ran, status: 'in_progress' } }),
        event('response.output_item.done', { output_index: 0, item: ran }),
        event('response.output_item.done', { output_index: 1, item: message }),
        event('response.completed', { response }),
      ];
      return { status: 200, body: Buffer.from(events.join('')), headers: { 'content-type': 'text/event-stream' } };
    },
  };
}
