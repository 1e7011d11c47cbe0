import type { ProviderId } from '../../config/providers.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { GatewayError } from '../../errors.ts';
import { type Endpoint, type OutgoingRequest, PROVIDER_METADATA, type ProviderAdapter, type ProviderAnswer, type ObjectRequest, type ProviderCall, type StoredResponseRequest } from '../types.ts';
import { decodeResponseId, managedResponseId } from '../response-ids.ts';
import { displayBase } from '../upstream-url.ts';
import { withFirstChunk } from '../first-chunk.ts';
import { relayBytes } from '../relay-bytes.ts';
import { connectionError, timeoutError, upstreamError } from './errors.ts';
import { jsonOutcome, responsesAnswer } from './answers.ts';
import { formBody } from './form-body.ts';
import { ocrAnswer, ocrBody, ocrFields, ocrUploadBytes } from './ocr.ts';
import { providerFields, withoutUnsent } from './params.ts';
import { relayOpenAIStream } from './sse-stream.ts';
import { askWhisperForVerbose, transcriptionAnswer } from './transcription.ts';
import { withForwarded } from '../forwarded.ts';

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
  ocr: 'ocr',
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
  /** Where the provider's Files and Batch APIs answer (`path` below their base, as ObjectRequest's); undefined for a provider without them. */
  objectTarget?(deployment: DeploymentRef, path: string, env: Record<string, unknown>): UpstreamTarget;
}

/** A string from the Worker env, or undefined. */
export function envString(env: Record<string, unknown>, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The shared base every OpenAI-wire-format provider is configuration over. */
export function openAICompatible(flavor: OpenAICompatibleFlavor): ProviderAdapter {
  const { objectTarget } = flavor;
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
      // An uploaded OCR document is read only now, once the call is admitted and routed (ocr.ts).
      const { target, fields, headers, multipart, upgraded } = prepare(call, call.endpoint === 'ocr' ? await ocrUploadBytes(call.body) : undefined);
      const responsesApi = call.endpoint === 'responses';
      const clientId = (id: string) => managedResponseId(flavor.id, call.deployment.id, id, call.responseOwner);
      const transcription = call.endpoint === 'transcription';
      // A plain call is bounded as a whole (a native timer); a stream, and speech (audio passed on as it comes, at the
      // client's pace), until its first body byte, so its timer is cleared then.
      const relayed = call.stream || call.endpoint === 'speech';
      const streamGuard = relayed ? new AbortController() : undefined;
      const timer = streamGuard ? setTimeout(() => streamGuard.abort(), call.timeoutMs) : undefined;
      const signal = streamGuard?.signal ?? AbortSignal.timeout(call.timeoutMs);
      let res: Response;
      try {
        res = await fetch(target.url, {
          method: 'POST',
          headers,
          // A transcription or an image edit goes as multipart/form-data with its files (fetch writes the boundary).
          body: multipart ? formBody(fields) : call.endpoint === 'ocr' ? ocrBody(fields) : JSON.stringify(fields),
          signal,
        });
      } catch (err) {
        if (timer) clearTimeout(timer);
        throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (!res.ok || !relayed || !res.body) {
        if (timer) clearTimeout(timer);
        if (!res.ok) throw await upstreamError(res, flavor.label, flavor.id, [target.secret]);
      }
      const { apiBase } = target;
      const providerHeaders = res.headers;
      // A relayed body is handed on once its first chunk is in, while the attempt's timer can still cut it off.
      let first: ReadableStream<Uint8Array> | undefined;
      if (relayed && res.body) {
        try {
          first = await withFirstChunk(res.body);
        } catch (err) {
          throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
        } finally {
          if (timer) clearTimeout(timer);
        }
      }
      if (call.stream && first) {
        const relay = relayOpenAIStream(first, {
          responsesApi,
          clientWantsUsage: call.clientWantsUsage,
          usageInjected: !responsesApi,
          promptTokenEstimate: call.promptTokenEstimate,
          keepText: call.keepText,
          ...(call.encryptedItems ? { encryptedItems: call.encryptedItems } : {}),
          label: flavor.label,
          provider: flavor.id,
          ...(responsesApi ? { responseId: clientId } : {}),
          ...(call.fileSearch ? { fileSearch: call.fileSearch } : {}),
          ...(call.containerIds ? { containerIds: call.containerIds } : {}),
        });
        return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase, providerHeaders };
      }
      if (call.endpoint === 'speech' && first) {
        // Audio, passed on as it arrives (a voice app plays the first bytes at once) with its type; priced per character spoken.
        const characters = typeof call.body.input === 'string' ? call.body.input.length : 0;
        const usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true, characters };
        const relay = relayBytes(first);
        const outcome = relay.ended.then(({ error, aborted }) => ({
          usage, finishedAt: Date.now(), ...(aborted ? { aborted } : {}), ...(error ? { error: connectionError(flavor.label, flavor.id, error) } : {}),
        }));
        return { status: 200, contentType: res.headers.get('content-type') ?? 'audio/mpeg', body: relay.body, usage, outcome, apiBase, providerHeaders };
      }
      // The answer is passed on as the provider's bytes; only its usage is read (see usageObject).
      let bytes: ArrayBuffer;
      try {
        bytes = await res.arrayBuffer();
      } catch (err) {
        throw signal.aborted ? timeoutError(flavor.label, flavor.id, call.timeoutMs) : connectionError(flavor.label, flavor.id, err);
      }
      if (responsesApi) return { status: 200, contentType: 'application/json', apiBase, providerHeaders, ...responsesAnswer(bytes, call, clientId) };
      if (call.endpoint === 'ocr') return { status: 200, contentType: 'application/json', apiBase, providerHeaders, ...ocrAnswer(bytes, call) };
      if (transcription) return { status: 200, apiBase, providerHeaders, ...transcriptionAnswer(bytes, res.headers.get('content-type') ?? 'application/json', upgraded) };
      return { status: 200, contentType: 'application/json', body: bytes, outcome: Promise.resolve(jsonOutcome(bytes, call)), apiBase, providerHeaders };
    },
    outgoing(call: ProviderCall): OutgoingRequest {
      const { target, fields, headers, multipart } = prepare(call);
      if (multipart) throw new GatewayError(`/${ENDPOINT_PATHS[call.endpoint]} sends a multipart form, not a JSON request`, { status: 400, type: 'bad_request_error' });
      return { url: target.url, headers, body: fields, secrets: [target.secret] };
    },
    async storedResponse(request: StoredResponseRequest): Promise<Response> {
      const target = targetOf({ env: request.env, deployment: request.deployment, endpoint: 'responses' } as ProviderCall);
      const url = new URL(target.url);
      url.pathname = `${url.pathname.replace(/\/$/, '')}/${encodeURIComponent(request.responseId)}${request.suffix}`;
      return await send(target, url, request.method, request.query, request.method === 'POST' ? '{}' : undefined, request.timeoutMs);
    },
    ...(objectTarget ? {
      async objectRequest(request: ObjectRequest): Promise<Response> {
        const target = objectTarget(request.deployment, request.path, request.env);
        return await send(target, new URL(target.url), request.method, request.query, request.body, request.timeoutMs, request.contentType, request.headers);
      },
    } : {}),
  };

  /** What a call sends: where, its headers, and its fields (JSON, or a form for files). */
  function prepare(call: ProviderCall, uploaded?: Uint8Array) {
    const target = targetOf(call);
    const fields = call.endpoint === 'ocr' ? ocrFields(call.body, flavor.id === 'azure_ai', uploaded) : providerFields(withoutUnsent(call.endpoint, call.body), flavor.supported?.[call.endpoint], call.dropParams, flavor.id);
    fields.model = call.deployment.model;
    const responsesApi = call.endpoint === 'responses';
    const ownMetadata = responsesApi ? (call.body as Record<symbol, unknown>)[PROVIDER_METADATA] : undefined;
    if (ownMetadata !== undefined) fields.metadata = ownMetadata;
    // A follow-up names the response by the id the gateway gave it: the provider knows its own.
    if (responsesApi && typeof fields.previous_response_id === 'string') {
      fields.previous_response_id = decodeResponseId(fields.previous_response_id)?.responseId ?? fields.previous_response_id;
    }
    // Transcriptions and image edits carry files: sent as multipart/form-data.
    const multipart = call.endpoint === 'transcription' || call.endpoint === 'image_edit';
    const upgraded = askWhisperForVerbose(call, fields);
    if (call.stream && !responsesApi) {
      // Usage is always counted: ask for it, and hide it from a client that did not (the Responses API always sends it).
      const asked = (fields.stream_options ?? {}) as Record<string, unknown>;
      fields.stream_options = { ...asked, include_usage: true };
    }
    const headers = withForwarded(call.forwarded, multipart
      ? { accept: 'application/json', ...target.headers }
      : { 'content-type': 'application/json', accept: call.stream ? 'text/event-stream' : 'application/json', ...target.headers });
    return { target, fields, headers, multipart, upgraded };
  }

  /** One request beside the model calls (a stored response, a file, a batch): the provider's answer, or its refusal thrown. */
  async function send(target: UpstreamTarget, url: URL, method: string, query: [string, string][], body: ObjectRequest['body'], timeoutMs: number, contentType?: string, headers: Record<string, string> = {}): Promise<Response> {
    for (const [name, value] of query) url.searchParams.append(name, value);
    let res: Response;
    const signal = AbortSignal.timeout(timeoutMs);
    // A FormData body sets its own multipart type.
    const type = contentType ?? (typeof body === 'string' ? 'application/json' : undefined);
    try {
      res = await fetch(url, {
        method,
        headers: { accept: 'application/json', ...headers, ...target.headers, ...(type ? { 'content-type': type } : {}) },
        ...(body !== undefined ? { body } : {}),
        signal,
      });
    } catch (err) {
      throw signal.aborted ? timeoutError(flavor.label, flavor.id, timeoutMs) : connectionError(flavor.label, flavor.id, err);
    }
    if (!res.ok) throw await upstreamError(res, flavor.label, flavor.id, [target.secret]);
    return res;
  }
}
