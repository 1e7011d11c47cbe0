import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { ownsResponse } from '../providers/response-ids.ts';
import type { Endpoint } from '../providers/types.ts';
import { withClientIds } from '../routes/fine-tuning-objects.ts';
import { objectDeployment, sameAccount } from '../routes/provider-objects.ts';
import { containerSkills } from '../routes/skill-references.ts';
import type { FileSearchStores } from './file-search-stores.ts';

/**
 * The files a chat completions or Responses API call names by id (a chat `file` part, an `input_file` or
 * `input_image`, a `code_interpreter` container's `file_ids` or the container itself by its gateway id, in a
 * string `container` or `container_id` anywhere (a shell tool's `container_reference`, a replayed
 * `code_interpreter_call`), an `image_generation` mask, a stored
 * prompt's variables, an Anthropic `document` of /v1/messages, a custom skill of its `container`): only the caller's own gateway ids reach
 * the provider, as the provider's ids, through a deployment of the account that keeps the files (the
 * router skips any other, as for file_search's stores). A raw id, another owner's or a forged one is the
 * Files routes' 404 before any provider is called. What names a stored object no gateway id covers
 * (`conversation`, `item_reference`, a container by the provider's id) is a 400 for a key. The master key may also name
 * provider ids, which pass as they are.
 */
export interface CallFiles {
  /** The body the provider gets: each gateway file id the provider's (and file_search's stores theirs). */
  body: Record<string, unknown>;
  /** The provider's id of each container the call named by the gateway's id → the client's (the answer names them so again). */
  containers?: ReadonlyMap<string, string>;
  /** A deployment of the account the files live in; undefined when only the master key's raw ids were named. */
  account?: DeploymentRef;
  /** Why a deployment may not serve the call: another account's. */
  refusal(d: DeploymentRef): GatewayError | undefined;
  /** A provider's refusal with the provider's ids of the files and containers sent named by the client's ids. */
  shownError(err: unknown): unknown;
}

/**
 * Subtrees that are the client's own words (schemas, metadata), not references: their keys are free (as
 * batch-lines.ts reads them). An earlier answer's `annotations` given back as input cite files (a code
 * interpreter's `cfile_` ids among them) that the model is not given to read.
 */
const OWN_WORDS = new Set(['parameters', 'json_schema', 'schema', 'metadata', 'annotations']);
const MAX_DEPTH = 64;
/** File and container ids one call may name (each is a signature check). */
const MAX_FILE_IDS = 1000;
/** Fields whose string value names a stored container (an object `container` is a new one, its file_ids walked). */
const CONTAINER_FIELDS = new Set(['container', 'container_id']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The call's file ids checked and translated; undefined when it names none (the body goes as it is). */
export function callFileIds(caller: Caller, endpoint: Endpoint, body: Record<string, unknown>, catalog: ModelCatalog, key: string, stores?: FileSearchStores): CallFiles | undefined {
  if (endpoint !== 'chat' && endpoint !== 'responses') return undefined;
  const scan = new Scan(caller, catalog, key, stores?.account);
  const sent: Record<string, unknown> = stores ? { ...body, tools: stores.tools } : body;
  let out: Record<string, unknown> | undefined;
  const set = (field: string, value: unknown) => {
    if (value !== sent[field]) (out ??= { ...sent })[field] = value;
  };
  // Anthropic's `container`, sent as it is (a Responses body's too: the bridge passes it on to a chat provider): a string or an `id` names a stored code execution container.
  if (typeof body.container === 'string' || (isRecord(body.container) && body.container.id !== undefined)) scan.stored('container', 'a code execution container the provider stores');
  // Its `skills`: a custom skill by the caller's own gateway id (routes/skills.ts), Anthropic's prebuilt ones as they are.
  if (isRecord(body.container) && Array.isArray(body.container.skills)) set('container', containerSkills(body.container, scan, caller, catalog, key));
  if (endpoint === 'chat') {
    // Only content given as parts can name a file: a call of plain strings is never walked.
    if (Array.isArray(body.messages) && body.messages.some((m) => isRecord(m) && Array.isArray(m.content))) set('messages', scan.messages(body.messages));
  } else {
    if (body.conversation !== undefined && body.conversation !== null) scan.stored('conversation', 'a conversation the provider stores');
    if (Array.isArray(body.input)) set('input', scan.walk(body.input, 'input', 0));
    if (Array.isArray(sent.tools)) set('tools', scan.walk(sent.tools, 'tools', 0));
    // A stored prompt's id names the operator's template (made in the provider's dashboard, not through the gateway); its variables may name files.
    // Each variable's value is walked as a whole: a variable's name is the template's, never a schema's.
    if (isRecord(body.prompt) && isRecord(body.prompt.variables)) {
      const given = body.prompt.variables;
      let variables: Record<string, unknown> | undefined;
      for (const name in given) {
        const next = scan.walk(given[name], `prompt.variables.${name}`, 0);
        if (next !== given[name]) (variables ??= { ...given })[name] = next;
      }
      if (variables) set('prompt', { ...body.prompt, variables });
    }
  }
  if (!scan.found) return undefined;
  const account = scan.account;
  const final = out ?? sent;
  return {
    body: final,
    ...(account ? { account } : {}),
    ...(scan.containers.size ? { containers: scan.containers } : {}),
    refusal: (d) => (account && !sameAccount(d, account)
      ? new GatewayError(`The files and containers named are in the provider account of model group ${account.group}; deployment ${d.id} of ${d.group} is in another`, { status: 400, type: 'invalid_request_error', param: endpoint === 'chat' ? 'messages' : 'input' })
      : undefined),
    shownError: (err) => withClientIds(err, scan.clientIds()),
  };
}

class Scan {
  found = false;
  account: DeploymentRef | undefined;
  /** Containers named by the gateway's ids: the provider's id → the client's. */
  readonly containers = new Map<string, string>();
  private readonly path: (string | number)[] = [];
  /** File and container ids checked in this call, and the provider's ids they stand for. */
  readonly seen = new Map<string, string>();

  private readonly caller: Caller;
  private readonly catalog: ModelCatalog;
  private readonly key: string;

  constructor(caller: Caller, catalog: ModelCatalog, key: string, storesAccount: DeploymentRef | undefined) {
    this.caller = caller;
    this.catalog = catalog;
    this.key = key;
    this.account = storesAccount;
  }

  messages(messages: unknown[]): unknown[] {
    let out: unknown[] | undefined;
    messages.forEach((m, i) => {
      if (!isRecord(m) || !Array.isArray(m.content)) return;
      const content = this.walk(m.content, `messages.${i}.content`, 0);
      if (content !== m.content) (out ??= messages.slice())[i] = { ...m, content };
    });
    return out ?? messages;
  }

  /** The value with every file id in it translated; the same value when none is (copied only where one is). */
  walk(value: unknown, at: string | number, depth: number): unknown {
    if (typeof value !== 'object' || value === null) return value;
    this.path.push(at);
    if (depth > MAX_DEPTH) {
      // Not walked is not checked: deeper than any provider's shape, refused rather than passed on.
      throw new GatewayError(`${this.where()} is nested deeper than ${MAX_DEPTH} levels`, { status: 400, type: 'invalid_request_error', param: this.where() });
    }
    try {
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const next = this.walk(value[i], i, depth + 1);
          if (next !== value[i]) (out ??= value.slice())[i] = next;
        }
        return out ?? value;
      }
      const object = value as Record<string, unknown>;
      // An item reference (its `type` is optional), or an image generation call named by its id alone: stored items.
      if (object.type === 'item_reference' || (this.inputItem(depth) && object.type === undefined && object.role === undefined && typeof object.id === 'string')) this.stored(this.where(), 'an item of a response the provider stores');
      if (object.type === 'image_generation_call' && typeof object.id === 'string' && object.result === undefined) this.stored(this.where(), 'an image the provider stores');
      let out: Record<string, unknown> | undefined;
      for (const field in object) {
        if (OWN_WORDS.has(field)) continue;
        const inner = object[field];
        let next = inner;
        if (field === 'file_id' && typeof inner === 'string') next = this.file(inner, field);
        else if (field === 'file_ids' && Array.isArray(inner)) next = inner.map((id, i) => (typeof id === 'string' ? this.file(id, `${field}.${i}`) : id));
        // A new container is an object (its file_ids walked); a string names a stored one: the caller's own gateway container id.
        else if (CONTAINER_FIELDS.has(field) && typeof inner === 'string') next = this.container(inner, field);
        else if (typeof inner === 'object' && inner !== null) next = this.walk(inner, field, depth + 1);
        if (next !== inner) (out ??= { ...object })[field] = next;
      }
      return out ?? object;
    } finally {
      this.path.pop();
    }
  }

  /** Whether the value walked at this depth is an item of the Responses `input` list. */
  private inputItem(depth: number): boolean {
    return depth === 1 && this.path[0] === 'input';
  }

  /** A field naming a stored object the gateway has no ids for: the account's, so no key's to name. */
  stored(param: string, what: string): void {
    this.found = true;
    if (this.caller.kind === 'master') return;
    throw new GatewayError(`${param} names ${what}, which a virtual key may not reach through the gateway (it keeps no record of their owners): send the content itself, or continue with previous_response_id`, {
      status: 400, type: 'invalid_request_error', param,
    });
  }

  /**
   * The provider's id of a container the caller names (a string `container` or `container_id`): its own gateway id (containers.ts), checked as
   * the Containers routes check it, pinning the call to the container's account as a file does. Any other id is the
   * 400 of a stored object for a key (the master key's raw ids pass).
   */
  private container(id: string, field: string): string {
    const param = `${this.where()}.${field}`;
    const decoded = decodeObjectId('container', id);
    if (!decoded) {
      this.stored(param, 'a code interpreter container the provider stores (not one the gateway gave out)');
      return id;
    }
    this.found = true;
    const known = this.seen.get(id);
    if (known !== undefined) return known;
    this.counted(param);
    const notFound = () => new GatewayError(`No such container: ${id.slice(0, 200)}`, { status: 404, type: 'not_found_error', param });
    if (!ownsResponse(this.caller, decoded, this.key)) throw notFound();
    const stored = objectDeployment(this.catalog, decoded);
    if (!stored || (stored.deployment.provider !== 'openai' && stored.deployment.provider !== 'azure')) throw notFound();
    authorizeModel(this.caller, stored.model, this.catalog);
    this.pin(stored.deployment, param);
    this.containers.set(decoded.upstreamId, id);
    this.seen.set(id, decoded.upstreamId);
    return decoded.upstreamId;
  }

  /** A 400 once the call has named as many ids as it may. */
  counted(param: string): void {
    if (this.seen.size >= MAX_FILE_IDS) {
      throw new GatewayError(`A call may name at most ${MAX_FILE_IDS} files and containers`, { status: 400, type: 'invalid_request_error', param });
    }
  }

  /** The provider's id of each file and container named → the client's (for the provider's refusals). */
  clientIds(): Map<string, string> {
    const ids = new Map<string, string>();
    for (const [client, upstream] of this.seen) if (client !== upstream) ids.set(upstream, client);
    return ids;
  }

  /** One call reaches one provider account: the first object named sets it, any other must be of it. */
  pin(deployment: DeploymentRef, param: string): void {
    if (this.account && !sameAccount(this.account, deployment)) {
      throw new GatewayError(`The files, containers and vector stores named are in different provider accounts (model groups ${this.account.group} and ${deployment.group}'s): one call reaches one account`, {
        status: 400, type: 'invalid_request_error', param,
      });
    }
    this.account ??= deployment;
  }

  /** The provider's id of a file the caller names, checked as the Files routes check it (homeOfId). */
  private file(id: string, field: string): string {
    this.found = true;
    const known = this.seen.get(id);
    if (known !== undefined) return known;
    this.counted(`${this.where()}.${field}`);
    const upstream = this.checkedFile(id, field);
    this.seen.set(id, upstream);
    return upstream;
  }

  private checkedFile(id: string, field: string): string {
    const decoded = decodeObjectId('file', id);
    const notFound = () => new GatewayError(`No such File object: ${id.slice(0, 200)}`, { status: 404, type: 'not_found_error', param: `${this.where()}.${field}` });
    if (!decoded) {
      if (this.caller.kind === 'master') return id;
      throw notFound();
    }
    if (!ownsResponse(this.caller, decoded, this.key)) throw notFound();
    // An id LiteLLM made names only its group (the master key's to use): its first deployment that keeps files.
    const stored = decoded.deploymentId ? objectDeployment(this.catalog, decoded) : undefined;
    const deployment = stored?.deployment ?? (decoded.deploymentId ? undefined : this.catalog.groups.get(decoded.group ?? '')?.find((d) => PROVIDERS.get(d.provider)?.objectRequest));
    if (!deployment || !PROVIDERS.get(deployment.provider)?.objectRequest) throw notFound();
    authorizeModel(this.caller, stored?.model ?? deployment.group, this.catalog);
    this.pin(deployment, `${this.where()}.${field}`);
    return decoded.upstreamId;
  }

  private where(): string {
    return this.path.join('.');
  }
}
