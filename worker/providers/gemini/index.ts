/**
 * `gemini/<model>`: Google AI Studio's Gemini API with an API key, sent in
 * the `x-goog-api-key` header (never the `?key=` query, which ends up in logs).
 * Chat through generateContent / streamGenerateContent, embeddings through
 * batchEmbedContents.
 */
import { z } from 'zod';
import { GatewayError } from '../../errors.ts';
import { embeddingList, reportedUsage } from '../bedrock/openai-answer.ts';
import { embeddingTexts, numberField } from '../bedrock/openai-request.ts';
import { postUpstream, readJson, unexpectedAnswer } from '../bedrock/upstream-post.ts';
import { googleError } from '../google/errors.ts';
import { geminiChat, geminiRequest, type GoogleTarget } from '../google/gemini-chat.ts';
import { modelSegment } from '../google/model-path.ts';
import { envString } from '../openai-compatible/adapter.ts';
import { providerFields } from '../openai-compatible/params.ts';
import { estimateTokens } from '../openai-compatible/usage.ts';
import type { ProviderAdapter, ProviderAnswer, ProviderCall } from '../types.ts';
import { displayBase, upstreamUrl } from '../upstream-url.ts';
import { withForwarded } from '../forwarded.ts';

const LABEL = 'Gemini';
/** Replaced by `api_base` (a proxy, a test server); the API path is appended to either. */
export const GEMINI_BASE = 'https://generativelanguage.googleapis.com';
const EMBEDDING_PARAMS: ReadonlySet<string> = new Set(['input', 'encoding_format', 'dimensions', 'user']);
// batchEmbedContents takes at most 100 requests a call.
const EMBED_BATCH = 100;

const batchEmbedResponse = z.looseObject({ embeddings: z.array(z.looseObject({ values: z.array(z.number()) })) });

function apiKey(call: ProviderCall): string {
  const key = call.deployment.params.api_key ?? envString(call.env, 'GEMINI_API_KEY') ?? envString(call.env, 'GOOGLE_API_KEY');
  if (!key) {
    throw new GatewayError(`Deployment misconfigured: gemini/${call.deployment.model} needs api_key (or GEMINI_API_KEY)`, {
      status: 500, type: 'internal_server_error', provider: 'gemini',
    });
  }
  return key;
}

function modelUrl(call: ProviderCall, method: string, query: Record<string, string> = {}): URL {
  // A model may be written with the API's own `models/` prefix.
  const model = call.deployment.model.replace(/^models\//, '');
  return upstreamUrl(call.deployment.params.api_base ?? GEMINI_BASE, `v1beta/models/${modelSegment(model)}:${method}`, query);
}

async function embed(call: ProviderCall, key: string): Promise<ProviderAnswer> {
  const fields = providerFields(call.body, EMBEDDING_PARAMS, call.dropParams, 'gemini');
  const texts = embeddingTexts(fields, LABEL);
  const dimensions = numberField(fields, 'dimensions');
  const url = modelUrl(call, 'batchEmbedContents');
  const model = `models/${call.deployment.model.replace(/^models\//, '')}`;
  const vectors: number[][] = [];
  for (let start = 0; start < texts.length; start += EMBED_BATCH) {
    const requests = texts.slice(start, start + EMBED_BATCH).map((text) => ({
      model, content: { parts: [{ text }] }, ...(dimensions !== undefined ? { outputDimensionality: dimensions } : {}),
    }));
    const request = { url, stream: false, timeoutMs: call.timeoutMs, label: LABEL, provider: 'gemini' };
    const reply = await postUpstream({
      ...request,
      headers: withForwarded(call.forwarded, { ...call.deployment.params.extra_headers, 'x-goog-api-key': key, 'content-type': 'application/json' }),
      body: JSON.stringify({ requests }),
      failure: (res) => googleError(res, LABEL, 'gemini', [key]),
    });
    const parsed = batchEmbedResponse.safeParse(await readJson(reply, request));
    if (!parsed.success) throw unexpectedAnswer(LABEL, 'gemini', 'a batchEmbedContents answer without embeddings');
    vectors.push(...parsed.data.embeddings.map((e) => e.values));
  }
  // The Gemini API reports no token count for embeddings: estimated from the text.
  const tokens = texts.reduce((n, t) => n + estimateTokens(t.length), 0);
  const usage = { ...reportedUsage(tokens, 0), reported: false };
  const list = embeddingList(call.deployment.model, vectors, tokens, fields.encoding_format === 'base64');
  return {
    status: 200, contentType: 'application/json', body: JSON.stringify(list),
    outcome: Promise.resolve({ usage, finishedAt: Date.now() }), apiBase: displayBase(url),
  };
}

export const gemini: ProviderAdapter = {
  id: 'gemini',
  endpoints: new Set(['chat', 'embedding']),
  async call(call) {
    const key = apiKey(call);
    if (call.endpoint === 'embedding') return embed(call, key);
    return geminiChat(call, chatTarget(call, key));
  },
  outgoing(call) {
    // Embeddings go in batches of 100 texts, a request each: described for chat only.
    if (call.endpoint !== 'chat') throw new GatewayError('Gemini is described for chat calls only', { status: 400, type: 'bad_request_error', param: 'call_type' });
    return geminiRequest(call, chatTarget(call, apiKey(call)));
  },
};

function chatTarget(call: ProviderCall, key: string): GoogleTarget {
  const url = call.stream ? modelUrl(call, 'streamGenerateContent', { alt: 'sse' }) : modelUrl(call, 'generateContent');
  return { url, headers: { 'x-goog-api-key': key }, secrets: [key], label: LABEL, provider: 'gemini' };
}
