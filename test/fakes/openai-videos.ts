/**
 * A stateful fake of OpenAI's Videos API (Sora) on loopback, in its wire format: `POST /v1/videos` (JSON, or
 * the multipart form the openai SDK sends), `GET /v1/videos[/{id}]`, `DELETE /v1/videos/{id}`,
 * `GET /v1/videos/{id}/content?variant=`, `POST /v1/videos/{id}/remix`; Azure OpenAI's under
 * `/openai/v1/videos` with an `api-key`. A video is `queued` when made and moves on each time it is read
 * (`in_progress`, then `completed`). Any path prefix before `/v1` or `/openai` is an account: a video is
 * visible only under the prefix that made it. Unknown fields and bad values are 400s, as OpenAI's are.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOpenAiFake } from './openai-fake-server.ts';
import { openaiError } from './openai-format.ts';
import { sendJson } from './upstream-wire.ts';

const ROUTE = /^(.*?)\/(v1|openai\/v1)\/videos(?:\/([^/]+))?(?:\/(content|remix))?$/;
const CREATE_FIELDS = new Set(['model', 'prompt', 'seconds', 'size', 'input_reference', 'input_reference[file_id]', 'input_reference[image_url]']);
const MODELS = ['sora-2', 'sora-2-pro', 'sora-2-2025-10-06', 'sora-2-pro-2025-10-06', 'sora-2-2025-12-08'];
const SECONDS = ['4', '8', '12'];
const SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024'];
/** What `content` answers per variant. */
const VARIANTS: Record<string, string> = { video: 'video/mp4', thumbnail: 'image/webp', spritesheet: 'image/jpeg' };

export interface FakeVideo {
  id: string;
  object: 'video';
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  error: null | { code: string; message: string };
  model: string;
  progress: number;
  prompt: string | null;
  remixed_from_video_id: string | null;
  seconds: string;
  size: string;
  status: 'queued' | 'in_progress' | 'completed' | 'failed';
}

export interface VideosRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** A multipart `input_reference` file: its name and size. */
  file?: { name: string; size: number };
}

export interface FakeVideos {
  url: string;
  requests: VideosRequest[];
  videos: Map<string, FakeVideo & { prefix: string }>;
  /** The MP4 bytes every completed video downloads as. */
  mp4: Buffer;
  failNext(status: number, body?: unknown): void;
  reset(): void;
  close(): Promise<void>;
}

type Answer = { status: number; body: unknown; type?: string };
const invalid = (message: string, param: string | null = null, code: string | null = null, status = 400): Answer => ({ status, body: openaiError({ message, type: 'invalid_request_error', param, code }) });
const now = () => Math.floor(Date.now() / 1000);
const view = ({ prefix: _p, ...video }: FakeVideo & { prefix: string }): FakeVideo => video;

export async function startFakeVideos(): Promise<FakeVideos> {
  const requests: VideosRequest[] = [];
  const videos = new Map<string, FakeVideo & { prefix: string }>();
  // An MP4's `ftyp` box, then enough bytes that a download arrives in many chunks.
  const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), randomBytes(512 * 1024)]);
  let failures: Answer[] = [];

  function make(prefix: string, fields: Record<string, unknown>, remixedFrom: string | null, azure: boolean): Answer {
    for (const name of Object.keys(fields)) if (!CREATE_FIELDS.has(name)) return invalid(`Unrecognized request argument supplied: ${name}`);
    if (typeof fields.prompt !== 'string' || fields.prompt === '') return invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    const model = String(fields.model ?? 'sora-2');
    const seconds = String(fields.seconds ?? '4');
    const size = String(fields.size ?? '720x1280');
    // Azure names its deployment, not the model.
    for (const [param, value, allowed] of [['model', model, azure ? [model] : MODELS], ['seconds', seconds, SECONDS], ['size', size, SIZES]] as const) {
      if (!allowed.includes(value)) return invalid(`Invalid value: '${value}'. Supported values are: ${allowed.map((a) => `'${a}'`).join(', ')}.`, param, 'invalid_value');
    }
    const video = {
      id: `video_${randomBytes(16).toString('hex')}`, object: 'video' as const, created_at: now(), completed_at: null, expires_at: null, error: null,
      model, progress: 0, prompt: fields.prompt, remixed_from_video_id: remixedFrom, seconds, size, status: 'queued' as const, prefix,
    };
    videos.set(video.id, video);
    return { status: 200, body: view(video) };
  }

  function advance(video: FakeVideo): void {
    if (video.status === 'queued') Object.assign(video, { status: 'in_progress', progress: 50 });
    else if (video.status === 'in_progress') Object.assign(video, { status: 'completed', progress: 100, completed_at: now(), expires_at: now() + 3600 });
  }

  function route(method: string, prefix: string, azure: boolean, id: string | undefined, action: string | undefined, query: Record<string, string>, body: Record<string, unknown> | undefined): Answer {
    const video = id === undefined ? undefined : videos.get(id);
    const visible = video?.prefix === prefix ? video : undefined;
    if (id !== undefined && !visible) return invalid(`Video with id '${id}' not found.`, null, null, 404);
    const key = `${method} ${id === undefined ? '' : 'id'}${action ? `/${action}` : ''}`;
    switch (key) {
      case 'POST ':
        return body ? make(prefix, body, null, azure) : invalid('We could not parse the JSON body of your request.');
      case 'GET ': {
        const all = [...videos.values()].filter((v) => v.prefix === prefix).reverse();
        const limit = query.limit === undefined ? 20 : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) return invalid("Invalid 'limit': expected an integer between 1 and 100.", 'limit');
        const at = query.after === undefined ? -1 : all.findIndex((v) => v.id === query.after);
        const rest = query.after !== undefined && at < 0 ? [] : all.slice(at + 1);
        const data = rest.slice(0, limit);
        return { status: 200, body: { object: 'list', data: data.map(view), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rest.length > limit } };
      }
      case 'GET id':
        advance(visible!);
        return { status: 200, body: view(visible!) };
      case 'DELETE id':
        if (visible!.status !== 'completed' && visible!.status !== 'failed') return invalid('Only completed or failed videos can be deleted.');
        videos.delete(id!);
        return { status: 200, body: { id, object: 'video.deleted', deleted: true } };
      case 'GET id/content': {
        const variant = query.variant ?? 'video';
        if (!VARIANTS[variant]) return invalid(`Invalid value: '${variant}'. Supported values are: 'video', 'thumbnail', 'spritesheet'.`, 'variant', 'invalid_value');
        if (visible!.status !== 'completed') return invalid('Video is not ready yet, use GET /v1/videos/{video_id} to check status.', null, null, 404);
        return { status: 200, body: variant === 'video' ? mp4 : Buffer.from(`${variant} of ${id}`), type: VARIANTS[variant] };
      }
      case 'POST id/remix': {
        if (!body || typeof body.prompt !== 'string') return invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
        if (Object.keys(body).some((name) => name !== 'prompt')) return invalid(`Unrecognized request argument supplied: ${Object.keys(body).find((n) => n !== 'prompt')}`);
        if (visible!.status !== 'completed') return invalid('Only completed videos can be remixed.');
        return make(prefix, { prompt: body.prompt, model: visible!.model, seconds: visible!.seconds, size: visible!.size }, id!, azure);
      }
      default:
        return invalid(`Invalid URL (${method} ${key})`, null, null, 404);
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
    const recorded: VideosRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers };
    requests.push(recorded);
    let body: Record<string, unknown> | undefined;
    if (/^multipart\/form-data/i.test(headers['content-type'] ?? '')) {
      const form = await new Response(raw, { headers: { 'content-type': headers['content-type']! } }).formData();
      body = {};
      for (const [name, value] of form) {
        if (typeof value === 'string') body[name] = value;
        else recorded.file = { name: value.name, size: value.size };
        if (typeof value !== 'string') body[name] = value;
      }
      recorded.form = Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } else if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        recorded.json = body;
      } catch {
        body = undefined;
      }
    }
    const failure = failures.shift();
    const match = ROUTE.exec(url.pathname);
    const azure = match?.[2] === 'openai/v1';
    const authorized = azure ? Boolean(headers['api-key']) : /^Bearer \S/.test(headers.authorization ?? '');
    const answer = failure ?? (!match ? invalid(`Invalid URL (${method} ${url.pathname})`, null, null, 404)
      : !authorized ? invalid("You didn't provide an API key.", null, 'invalid_api_key', 401)
      : route(method, match[1] ?? '', azure, match[3] === undefined ? undefined : decodeURIComponent(match[3]), match[4], recorded.query, body));
    if (!Buffer.isBuffer(answer.body)) return sendJson(res, answer.status, answer.body);
    res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/octet-stream', 'content-length': answer.body.length });
    res.end(answer.body);
  }

  const server = await serveOpenAiFake('fake videos', serve);
  return {
    url: server.url,
    requests,
    videos,
    mp4,
    failNext(status, body) {
      failures.push({ status, body: body ?? openaiError({ message: `fake videos: injected ${status}`, type: 'server_error' }) });
    },
    reset() {
      requests.length = 0;
      videos.clear();
      failures = [];
    },
    close: server.close,
  };
}
