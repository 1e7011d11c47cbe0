/**
 * `vertex_ai/<model>`: Gemini models on Vertex AI (generateContent /
 * streamGenerateContent), Claude models (rawPredict / streamRawPredict) and
 * text embeddings (predict), called with an access token from the
 * deployment's service account key.
 */
import { embeddingList, reportedUsage } from '../bedrock/openai-answer.ts';
import { embeddingTexts, numberField } from '../bedrock/openai-request.ts';
import { postUpstream, readJson, unexpectedAnswer } from '../bedrock/upstream-post.ts';
import { googleError } from '../google/errors.ts';
import { geminiChat, geminiRequest, type GoogleTarget } from '../google/gemini-chat.ts';
import { providerFields } from '../openai-compatible/params.ts';
import { GatewayError } from '../../errors.ts';
import { type ProviderAdapter, type ProviderAnswer, type ProviderCall, TOKEN_AT_SEND } from '../types.ts';
import { displayBase } from '../upstream-url.ts';
import { claudeChat, claudeRequest, isClaude } from './anthropic.ts';
import { EMBEDDING_PARAMS, instancesPerCall, predictRequest, predictResponseSchema, predictVectors } from './embeddings.ts';
import { AccessTokens } from './service-account.ts';
import { VERTEX_LABEL, type VertexTarget, vertexModelUrl, vertexTarget } from './target.ts';
import { withForwarded } from '../forwarded.ts';

// Embedding calls that run at once when the model takes one text a call.
const EMBED_PARALLEL = 8;

/** One isolate's access tokens, shared by Vertex AI calls and its pass-through route. */
export const accessTokens = new AccessTokens();

/** Where a Gemini chat call goes on Vertex AI; `authorization` as given (a token, or a placeholder for one). */
function geminiTarget(call: ProviderCall, target: VertexTarget, authorization: string, secrets: string[]): GoogleTarget {
  const model = call.deployment.model;
  const url = call.stream
    ? vertexModelUrl(target, 'google', model, 'streamGenerateContent', { alt: 'sse' })
    : vertexModelUrl(target, 'google', model, 'generateContent');
  return { url, headers: { authorization }, secrets, label: VERTEX_LABEL, provider: 'vertex_ai' };
}

async function embed(call: ProviderCall, target: VertexTarget, token: string): Promise<ProviderAnswer> {
  const fields = providerFields(call.body, EMBEDDING_PARAMS, call.dropParams, 'vertex_ai');
  const texts = embeddingTexts(fields, VERTEX_LABEL);
  const dimensions = numberField(fields, 'dimensions');
  const url = vertexModelUrl(target, 'google', call.deployment.model, 'predict');
  const size = instancesPerCall(call.deployment.model);
  const batches: string[][] = [];
  for (let start = 0; start < texts.length; start += size) batches.push(texts.slice(start, start + size));
  const results: { vectors: number[][]; tokens: number }[] = new Array(batches.length);
  const request = { url, stream: false, timeoutMs: call.timeoutMs, label: VERTEX_LABEL, provider: 'vertex_ai' };
  for (let first = 0; first < batches.length; first += EMBED_PARALLEL) {
    await Promise.all(batches.slice(first, first + EMBED_PARALLEL).map(async (batch, i) => {
      const reply = await postUpstream({
        ...request,
        headers: withForwarded(call.forwarded, { ...call.deployment.params.extra_headers, authorization: `Bearer ${token}`, 'content-type': 'application/json' }),
        body: JSON.stringify(predictRequest(batch, dimensions)),
        failure: (res) => googleError(res, VERTEX_LABEL, 'vertex_ai', [token]),
      });
      const parsed = predictResponseSchema.safeParse(await readJson(reply, request));
      if (!parsed.success) throw unexpectedAnswer(VERTEX_LABEL, 'vertex_ai', 'a predict answer without predictions[].embeddings');
      results[first + i] = predictVectors(parsed.data);
    }));
  }
  const vectors = results.flatMap((r) => r.vectors);
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  const list = embeddingList(call.deployment.model, vectors, tokens, fields.encoding_format === 'base64');
  return {
    status: 200, contentType: 'application/json', body: JSON.stringify(list),
    outcome: Promise.resolve({ usage: reportedUsage(tokens, 0), finishedAt: Date.now() }), apiBase: displayBase(url),
  };
}

export const vertexAi: ProviderAdapter = {
  id: 'vertex_ai',
  endpoints: new Set(['chat', 'embedding']),
  async call(call) {
    const target = vertexTarget(call.deployment, call.env);
    const token = await accessTokens.token(target.account, VERTEX_LABEL, 'vertex_ai');
    if (call.endpoint === 'embedding') return embed(call, target, token);
    return isClaude(call.deployment.model) ? claudeChat(call, target, token) : geminiChat(call, geminiTarget(call, target, `Bearer ${token}`, [token]));
  },
  outgoing(call) {
    // Embeddings go in batches the model takes, a request each: described for chat only.
    if (call.endpoint !== 'chat') throw new GatewayError('Vertex AI is described for chat calls only', { status: 400, type: 'bad_request_error', param: 'call_type' });
    // No token is fetched: the request shows where one goes.
    const target = vertexTarget(call.deployment, call.env);
    const outgoing = isClaude(call.deployment.model)
      ? claudeRequest(call, target, TOKEN_AT_SEND).outgoing
      : geminiRequest(call, geminiTarget(call, target, TOKEN_AT_SEND, []));
    return { ...outgoing, placeholders: ['authorization'] };
  },
};
