import type { ProviderId } from '../../config/providers.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { type CallOutcome, type Endpoint, PROVIDER_METADATA, type ProviderAdapter, type ProviderAnswer, type ProviderCall, type StoredResponseRequest } from '../types.ts';
import { decodeResponseId, managedResponseId } from '../response-ids.ts';
import { displayBase } from '../upstream-url.ts';
import { withFirstChunk } from '../first-chunk.ts';
import { connectionError, timeoutError, upstreamError } from './errors.ts';
import { providerFields } from './params.ts';
import { relayOpenAIStream } from './sse-stream.ts';
import { readOpenAIUsage } from './usage.ts';

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: 'chat/completions',
  completion: 'completions',
  embedding: 'embeddings',
  responses: 'responses',
  moderation: 'moderations',
  image_generation: 'images/generations',
  speech: 'audio/speech',
  transcription: 'audio/transcriptions',
  image_edit: 'images/edits',
  rerank: 'rerank',
};

export interface UpstreamTarget {
  url: URL;
  headers: Record<string, string>;
  /** The credential in use, so error messages can be scrubbed of it. */
  secret?: string;
}

/** What makes one OpenAI-compatible provider differ from another: where to send and how to authenticate. */
export interface OpenAICompatibleFlavor {
  id: ProviderId;
  /** `OpenAI` → "OpenAIException" in messages, as LiteLLM words them. */
  label: string;
  endpoints: readonly Endpoint[];
  /** Fields the provider takes per endpoint; undefined takes anything. */
  supported?: Record<Endpoint, ReadonlySet<string>>;
  target(deployment: DeploymentRef, endpoint: Endpoint, env: Record<string, unknown>): UpstreamTarget;
}

/** A string from the Worker env, or undefined. */
export function envString(env: Record<string, unknown>, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The shared base every OpenAI-wire-format provider is configuration over. */
export function openAICompatible(flavor: OpenAICompatibleFlavor): ProviderAdapter {
  // A deployment's target depends only on config and env: built once per isolate, not per request.
  // Keyed by the deployment object: a model changed through the admin API is a new object, so a new target.
  let targets: { env: object; byDeployment: WeakMap<DeploymentRef, Map<Endpoint, UpstreamTarget & { apiBase: string }>> } | undefined;
  const targetOf = (call: ProviderCall) => {
    if (targets?.env !== call.env) targets = { env: call.env, byDeployment: new WeakMap() };
    let byEndpoint = targets.byDeployment.get(call.deployment);
    if (!byEndpoint) targets.byDeployment.set(call.deployment, (byEndpoint = new Map()));
    let target = byEndpoint.get(call.endpoint);
    if (!target) {
      const built = flavor.target(call.deployment, call.endpoint, call.env);
      target = { ...built, apiBase: displayBase(built.url) };
      byEndpoint.set(call.endpoint, target);
    }
    return target;
  };
  return {
    id: flavor.id,
    endpoints: new Set(flavor.endpoints),
    async call(call: ProviderCall): Promise<ProviderAnswer> {
      const target = targetOf(call);
      const fields = providerFields(withoutUnsent(call.endpoint, call.body), flavor.supported?.[call.endpoint], call.dropParams, flavor.id);
      fields.model = call.deployment.model;
      const responsesApi = call.endpoint === 'responses';
      const ownMetadata = responsesApi ? (call.body as Record<symbol, unknown>)[PROVIDER_METADATA] : undefined;
      if (ownMetadata !== undefined) fields.metadata = ownMetadata;
      // A follow-up names the response by the id the gateway gave it: the provider knows its own.
      if (responsesApi && typeof fields.previous_response_id === 'string') {
        fields.previous_response_id = decodeResponseId(fields.previous_response_id)?.responseId ?? fields.previous_response_id;
      }
      const clientId = (id: string) => managedResponseId(flavor.id, call.deployment.id, id, call.responseOwner);
      // Whisper prices by the second, which only its verbose_json answer says: asked for in place of json, text, srt or vtt,
      // and the format the client asked for made from it (whisper only: the gpt-4o transcribe models take no verbose_json).
      const transcription = call.endpoint === 'transcription';
      // Transcriptions and image edits carry files: sent as multipart/form-data.
      const multipart = transcription || call.endpoint === 'image_edit';
      const asked = String(fields.response_format ?? 'json');
      const whisper = /whisper/i.test(`${call.deployment.model} ${call.deployment.info.base_model ?? ''}`);
      const upgraded = transcription && whisper && asked !== 'verbose_json' && UPGRADABLE.has(asked) ? asked : undefined;
      if (upgraded) {
        fields.response_format = 'verbose_json';
        // Subtitles are made from segments: asked for when the client named only word timestamps.
        const granularities = fields.timestamp_granularities;
        if (Array.isArray(granularities) && !granularities.includes('segment')) fields.timestamp_granularities = [...granularities, 'segment'];
      }
      if (call.stream && !responsesApi) {
        // Usage is always counted: ask for it, and hide it from a client that did not (the Responses API always sends it).
        const asked = (fields.stream_options ?? {}) as Record<string, unknown>;
        fields.stream_options = { ...asked, include_usage: true };
      }
      // A plain call is bounded as a whole (a native timer); a stream until its first body byte, so its timer is cleared then.
      const streamGuard = call.stream ? new AbortController() : undefined;
      const timer = streamGuard ? setTimeout(() => streamGuard.abort(), call.timeoutMs) : undefined;
      const signal = streamGuard?.signal ?? AbortSignal.timeout(call.timeoutMs);
      let res: Response;
      try {
        res = await fetch(target.url, {
          method: 'POST',
          headers: multipart ? { accept: 'application/json', ...target.headers } : { 'content-type': 'application/json', accept: call.stream ? 'text/event-stream' : 'application/json', ...target.headers },
          // A transcription or an image edit goes as multipart/form-data with its files (fetch writes the boundary).
          body: multipart ? formBody(fields) : JSON.stringify(fields),
          signal,
        });
      } catch (err) {
        if (timer) clearTimeout(timer);
        throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (!res.ok || !call.stream || !res.body) {
        if (timer) clearTimeout(timer);
        if (!res.ok) throw await upstreamError(res, flavor.label, flavor.id, [target.secret]);
      }
      const { apiBase } = target;
      if (call.stream && res.body) {
        let body: ReadableStream<Uint8Array>;
        try {
          body = await withFirstChunk(res.body);
        } catch (err) {
          throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
        } finally {
          if (timer) clearTimeout(timer);
        }
        const relay = relayOpenAIStream(body, {
          responsesApi,
          clientWantsUsage: call.clientWantsUsage,
          usageInjected: !responsesApi,
          promptTokenEstimate: call.promptTokenEstimate,
          keepText: call.keepText,
          label: flavor.label,
          provider: flavor.id,
          ...(responsesApi ? { responseId: clientId } : {}),
        });
        return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase };
      }
      // The answer is passed on as the provider's bytes; only its usage is read (see usageObject).
      let bytes: ArrayBuffer;
      try {
        bytes = await res.arrayBuffer();
      } catch (err) {
        throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (responsesApi) return { status: 200, contentType: 'application/json', apiBase, ...responsesAnswer(bytes, call, clientId) };
      if (transcription) return { status: 200, apiBase, ...transcriptionAnswer(bytes, res.headers.get('content-type') ?? 'application/json', upgraded) };
      if (call.endpoint === 'speech') {
        // Audio, passed on with its type; priced per character of the text spoken.
        const characters = typeof call.body.input === 'string' ? call.body.input.length : 0;
        const usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true, characters };
        return { status: 200, contentType: res.headers.get('content-type') ?? 'audio/mpeg', body: bytes, outcome: Promise.resolve({ usage, finishedAt: Date.now() }), apiBase };
      }
      return { status: 200, contentType: 'application/json', body: bytes, outcome: Promise.resolve(jsonOutcome(bytes, call)), apiBase };
    },
    async storedResponse(request: StoredResponseRequest): Promise<Response> {
      const target = targetOf({ env: request.env, deployment: request.deployment, endpoint: 'responses' } as ProviderCall);
      const url = new URL(target.url);
      url.pathname = `${url.pathname.replace(/\/$/, '')}/${encodeURIComponent(request.responseId)}${request.suffix}`;
      for (const [name, value] of request.query) url.searchParams.append(name, value);
      let res: Response;
      const signal = AbortSignal.timeout(request.timeoutMs);
      try {
        res = await fetch(url, {
          method: request.method,
          headers: { accept: 'application/json', ...target.headers, ...(request.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(request.method === 'POST' ? { body: '{}' } : {}),
          signal,
        });
      } catch (err) {
        throw signal.aborted ? timeoutError(flavor.label, flavor.id, request.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (!res.ok) throw await upstreamError(res, flavor.label, flavor.id, [target.secret]);
      return res;
    },
  };
}

/**
 * What LiteLLM drops silently where OpenAI's API takes no such field: `user` on moderations, speech and
 * transcriptions (the gateway has read it: end user, enforce_user_param), and the `stream: false` a
 * client may send where nothing streams.
 */
const UNSENT: Partial<Record<Endpoint, readonly string[]>> = {
  moderation: ['user'], speech: ['user', 'stream'], transcription: ['user', 'stream'], image_generation: ['stream'], image_edit: ['stream'],
};
function withoutUnsent(endpoint: Endpoint, body: Record<string, unknown>): Record<string, unknown> {
  const unsent = UNSENT[endpoint];
  if (!unsent?.some((name) => name in body)) return body;
  const out = { ...body };
  for (const name of unsent) delete out[name];
  return out;
}

function appendField(form: FormData, name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (value instanceof File) form.append(name, value, value.name || 'audio');
  else if (Array.isArray(value)) for (const item of value) appendField(form, `${name}[]`, item);
  else if (typeof value === 'object') for (const [key, inner] of Object.entries(value)) appendField(form, `${name}[${key}]`, inner);
  else form.append(name, String(value));
}

/** A transcription's fields as the form its provider takes: files as files, lists as `name[]`, objects as `name[key]`. */
function formBody(fields: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    appendField(form, name, value);
  }
  return form;
}

/** The formats made from a verbose_json answer when the gateway asked for it in their place. */
const UPGRADABLE = new Set(['json', 'text', 'srt', 'vtt']);

interface Segment { start?: unknown; end?: unknown; text?: unknown }

/** `{text}` (and usage), plain text, or subtitles (SubRip, WebVTT) from a verbose_json answer's segments. */
function fromVerbose(format: string, parsed: { text?: unknown; duration?: unknown; segments?: unknown; usage?: unknown }): { body: string; contentType: string } {
  const text = typeof parsed.text === 'string' ? parsed.text : '';
  if (format === 'json') return { body: JSON.stringify({ text, ...(parsed.usage ? { usage: parsed.usage } : {}) }), contentType: 'application/json' };
  if (format === 'text') return { body: `${text}\n`, contentType: 'text/plain; charset=utf-8' };
  // As whisper's own SRT and WebVTT writers make them: each cue its text stripped, `-->` escaped, and a blank line after it.
  const segments = Array.isArray(parsed.segments) ? parsed.segments as Segment[] : [];
  const time = (seconds: unknown, separator: string) => {
    const ms = Math.round((typeof seconds === 'number' ? seconds : 0) * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
  };
  const cue = (s: Segment, sep: string) => `${time(s.start, sep)} --> ${time(s.end, sep)}\n${String(s.text ?? '').trim().replaceAll('-->', '->')}\n\n`;
  if (format === 'srt') return { body: segments.map((s, i) => `${i + 1}\n${cue(s, ',')}`).join(''), contentType: 'text/plain; charset=utf-8' };
  return { body: `WEBVTT\n\n${segments.map((s) => cue(s, '.')).join('')}`, contentType: 'text/plain; charset=utf-8' };
}

/**
 * A transcription's answer: its text kept, its usage read (gpt-4o-transcribe's tokens, or the seconds
 * of audio a verbose_json answer or a `duration` usage gives), and, where the gateway asked for
 * verbose_json in place of another format (`upgraded`), that format made from it.
 */
function transcriptionAnswer(bytes: ArrayBuffer, contentType: string, upgraded: string | undefined): Pick<ProviderAnswer, 'body' | 'outcome' | 'contentType'> {
  const text = decoder.decode(bytes);
  const none = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  let parsed: { text?: unknown; duration?: unknown; segments?: unknown; usage?: { type?: unknown; seconds?: unknown } | null } | undefined;
  if (/json/i.test(contentType)) {
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // a 200 that is not JSON: passed on, counted as no usage
    }
  }
  if (!parsed) return { body: bytes, contentType, outcome: Promise.resolve({ usage: none, finishedAt: Date.now(), responseText: text }) };
  const seconds = typeof parsed.duration === 'number' ? parsed.duration
    : parsed.usage?.type === 'duration' && typeof parsed.usage.seconds === 'number' ? parsed.usage.seconds : undefined;
  const tokens = parsed.usage?.type === 'duration' ? undefined : readOpenAIUsage(parsed.usage as never);
  const usage = { ...(tokens ?? none), ...(seconds !== undefined ? { seconds } : {}) };
  const answer = typeof parsed.text === 'string' ? parsed.text : undefined;
  const made = upgraded ? fromVerbose(upgraded, parsed) : undefined;
  return { body: made?.body ?? bytes, contentType: made?.contentType ?? 'application/json', outcome: Promise.resolve({ usage, finishedAt: Date.now(), ...(answer !== undefined ? { responseText: answer } : {}) }) };
}

/** A Responses API answer: its usage and text read from the whole of it, and its id the one the client is to see. */
function responsesAnswer(bytes: ArrayBuffer, call: ProviderCall, clientId: (id: string) => string): Pick<ProviderAnswer, 'body' | 'outcome'> {
  const text = decoder.decode(bytes);
  let parsed: { id?: unknown; previous_response_id?: unknown; usage?: unknown; output?: unknown } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a 200 that is not JSON: passed on, counted as unknown usage
  }
  const estimate = { promptTokens: call.promptTokenEstimate, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
  const answer = responsesOutputText(parsed?.output);
  const outcome: CallOutcome = { usage: readOpenAIUsage(parsed?.usage as never) ?? estimate, finishedAt: Date.now(), ...(typeof answer === 'string' ? { responseText: answer } : {}) };
  if (!parsed || typeof parsed.id !== 'string') return { body: bytes, outcome: Promise.resolve(outcome) };
  parsed.id = clientId(parsed.id);
  if (typeof parsed.previous_response_id === 'string') parsed.previous_response_id = clientId(parsed.previous_response_id);
  return { body: JSON.stringify(parsed), outcome: Promise.resolve(outcome) };
}

const decoder = new TextDecoder();
/** OpenAI puts `usage` at the end of an answer: its last bytes are usually all that need decoding. */
const TAIL_BYTES = 2048;

function jsonOutcome(bytes: ArrayBuffer, call: ProviderCall): CallOutcome {
  // A moderation is free and its answer has no usage: no tokens are charged.
  if (call.endpoint === 'moderation') return { usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }, finishedAt: Date.now() };
  if (call.endpoint === 'rerank') {
    // Tokens where the server reports them (vLLM, Jina), and the searches Cohere bills (one a request where it does not say).
    let parsed: { usage?: { total_tokens?: unknown } | null; meta?: { billed_units?: { search_units?: unknown } | null } | null } = {};
    try {
      parsed = JSON.parse(decoder.decode(bytes)) as typeof parsed;
    } catch {
      // a 200 that is not JSON: one search, no tokens
    }
    const tokens = typeof parsed.usage?.total_tokens === 'number' ? parsed.usage.total_tokens : 0;
    const units = parsed.meta?.billed_units?.search_units;
    return { usage: { promptTokens: tokens, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true, searches: typeof units === 'number' ? units : 1 }, finishedAt: Date.now() };
  }
  if (call.endpoint === 'image_generation' || call.endpoint === 'image_edit') {
    // Priced per image (as many as asked for), plus tokens where the model reports them (gpt-image-1); the images are most of the answer.
    const view = new Uint8Array(bytes);
    const tokens = readOpenAIUsage(usageObject(decoder.decode(view.length > TAIL_BYTES ? view.subarray(view.length - TAIL_BYTES) : view)) as never);
    const images = typeof call.body.n === 'number' ? call.body.n : 1;
    return { usage: { ...(tokens ?? { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true }), images }, finishedAt: Date.now() };
  }
  const estimate = { promptTokens: call.promptTokenEstimate, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
  if (!call.keepText) {
    const view = new Uint8Array(bytes);
    let usage = view.length > TAIL_BYTES ? usageObject(decoder.decode(view.subarray(view.length - TAIL_BYTES))) : undefined;
    usage ??= usageObject(decoder.decode(view));
    return { usage: readOpenAIUsage(usage as never) ?? estimate, finishedAt: Date.now() };
  }
  const text = decoder.decode(bytes);
  let parsed: { usage?: unknown; choices?: { message?: { content?: unknown }; text?: unknown }[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a 200 that is not JSON: counted as unknown usage
  }
  const first = parsed.choices?.[0];
  const answer = first?.message?.content ?? first?.text;
  return {
    usage: readOpenAIUsage(parsed.usage as never) ?? estimate,
    finishedAt: Date.now(),
    ...(typeof answer === 'string' ? { responseText: answer } : {}),
  };
}

/** A Responses API answer's text: its `output_text` parts, joined (the SDKs' `output_text`); undefined without any. */
function responsesOutputText(output: unknown): string | undefined {
  if (!Array.isArray(output)) return undefined;
  const parts: string[] = [];
  for (const item of output as { type?: unknown; content?: unknown }[]) {
    if (item?.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content as { type?: unknown; text?: unknown }[]) {
      if (part?.type === 'output_text' && typeof part.text === 'string') parts.push(part.text);
    }
  }
  return parts.length ? parts.join('') : undefined;
}

/**
 * The `usage` object of an OpenAI answer, read from its text without parsing
 * the whole answer (a long completion is most of it). In the compact JSON
 * providers send, an unescaped `"usage":` can only be a key; the object holds
 * numbers and nested objects, never strings with braces.
 */
export function usageObject(text: string): unknown {
  const key = text.lastIndexOf('"usage"');
  if (key < 0) return undefined;
  const open = text.indexOf('{', key);
  if (open < 0 || text.slice(key + 7, open).trim() !== ':') return undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 123) depth++;
    else if (ch === 125 && --depth === 0) {
      try {
        return JSON.parse(text.slice(open, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
