/**
 * `bedrock/<model id>`: chat through the Converse and ConverseStream APIs
 * (every model family), embeddings through InvokeModel (Titan, Cohere),
 * each request signed with SigV4 (or a Bedrock API key as a bearer token).
 */
import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { keptAnswer } from '../answer-tool-calls.ts';
import { modifiedForBedrock } from '../modify-params/bedrock.ts';
import { providerFields } from '../openai-compatible/params.ts';
import { estimatedUsage, estimateTokens } from '../openai-compatible/usage.ts';
import type { CallOutcome, ProviderAdapter, ProviderAnswer, ProviderCall } from '../types.ts';
import { displayBase, upstreamUrl } from '../upstream-url.ts';
import { authHeaders, authSecrets, type BedrockAuth, bedrockAuth, unsignedAuth } from './auth.ts';
import { CONVERSE_PARAMS, toConverseRequest } from './converse-request.ts';
import { converseChoice, converseResponseSchema, converseUsage } from './converse-response.ts';
import { ConverseStreamTranslator } from './converse-stream.ts';
import {
  COHERE_BATCH, cohereRequest, cohereResponseSchema, cohereVectors, EMBEDDING_PARAMS, embeddingFamily, titanRequest, titanResponseSchema,
} from './embeddings.ts';
import { BEDROCK_LABEL, bedrockError } from './errors.ts';
import { EventStreamDecoder, EventStreamError, type EventStreamMessage } from './eventstream.ts';
import { answerText, chatCompletion, embeddingList, reportedUsage } from './openai-answer.ts';
import { translateStream, type StreamDecoder } from './openai-chunk-stream.ts';
import { embeddingTexts, numberField } from './openai-request.ts';
import { postUpstream, readJson, unexpectedAnswer } from './upstream-post.ts';

// LiteLLM's route prefixes inside a model name (bedrock/converse/<id>); Tollgate calls Converse for every chat model.
const ROUTE_PREFIX = /^(?:converse|invoke|converse_like)\//;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
// Titan embeds one text a call; these many run at once.
const TITAN_PARALLEL = 8;

/** The Bedrock model id (or ARN) of a deployment. */
export function bedrockModelId(model: string): string {
  let id = model;
  while (ROUTE_PREFIX.test(id)) id = id.slice(id.indexOf('/') + 1);
  return id;
}

/** `https://bedrock-runtime.{region}.amazonaws.com`, or the deployment's `api_base` (a VPC endpoint, a test server). */
export function bedrockBase(deployment: DeploymentRef, region: string): string {
  if (deployment.params.api_base) return deployment.params.api_base;
  if (!REGION.test(region)) {
    throw new GatewayError(`Deployment misconfigured: "${region}" is not an AWS region`, { status: 500, type: 'internal_server_error', provider: 'bedrock' });
  }
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

interface Signed {
  url: URL;
  auth: BedrockAuth;
  secrets: string[];
}

function target(call: ProviderCall, action: string): Signed {
  const auth = bedrockAuth(call.deployment, call.env);
  const modelId = bedrockModelId(call.deployment.model);
  // The id travels encoded (`:` as %3A, an ARN's `/` as %2F); SigV4 signs it encoded once more.
  const url = upstreamUrl(bedrockBase(call.deployment, auth.region), `model/${encodeURIComponent(modelId)}/${action}`);
  return { url, auth, secrets: authSecrets(auth) };
}

/** The headers a request is signed with (SigV4 adds its own), or sent with beside a bearer token. */
function unsignedHeaders(call: ProviderCall, accept: string): Record<string, string> {
  return { ...call.deployment.params.extra_headers, 'content-type': 'application/json', accept };
}

async function post(call: ProviderCall, signed: Signed, payload: unknown, accept: string) {
  const body = JSON.stringify(payload);
  const headers = await authHeaders(signed.auth, signed.url, body, unsignedHeaders(call, accept));
  const request = { url: signed.url, headers, body, stream: call.stream, timeoutMs: call.timeoutMs, label: BEDROCK_LABEL, provider: 'bedrock' };
  const reply = await postUpstream({ ...request, failure: (res) => bedrockError(res, signed.secrets) });
  return { reply, request };
}

/** The Converse (or ConverseStream) request of a chat call, before it is signed. */
function converseRequest(call: ProviderCall) {
  // litellm_settings.modify_params: what Converse would refuse is rewritten first, as LiteLLM does.
  const body = call.deployment.modifyParams ? modifiedForBedrock(call.body) : call.body;
  const fields = providerFields(body, CONVERSE_PARAMS, call.dropParams, 'bedrock');
  const signed = target(call, call.stream ? 'converse-stream' : 'converse');
  return { signed, payload: toConverseRequest(fields), accept: call.stream ? 'application/vnd.amazon.eventstream' : 'application/json' };
}

async function chat(call: ProviderCall): Promise<ProviderAnswer> {
  const { signed, payload, accept } = converseRequest(call);
  const model = call.deployment.model;
  const apiBase = displayBase(signed.url);
  const { reply, request } = await post(call, signed, payload, accept);
  if (call.stream) {
    if (!reply.res.body) throw unexpectedAnswer(BEDROCK_LABEL, 'bedrock', 'a stream without a body');
    const relay = translateStream(reply.res.body, checkedFrames(), new ConverseStreamTranslator(signed.secrets), {
      model, clientWantsUsage: call.clientWantsUsage, promptTokenEstimate: call.promptTokenEstimate, keepText: call.keepText,
      label: BEDROCK_LABEL, provider: 'bedrock',
    });
    return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase };
  }
  const parsed = converseResponseSchema.safeParse(await readJson(reply, request));
  if (!parsed.success) throw unexpectedAnswer(BEDROCK_LABEL, 'bedrock', 'a Converse answer without output.message.content or stopReason');
  const choice = converseChoice(parsed.data);
  const usage = converseUsage(parsed.data.usage) ?? estimatedUsage(call.promptTokenEstimate, answerText([choice]).length);
  const outcome: CallOutcome = { usage, finishedAt: Date.now(), ...(call.keepText ? keptAnswer(answerText([choice]), choice.message.tool_calls, choice.message) : {}) };
  const answer = chatCompletion(model, [choice], usage, { cacheFields: true });
  return { status: 200, contentType: 'application/json', body: JSON.stringify(answer), outcome: Promise.resolve(outcome), apiBase };
}

/** Event stream frames, with a malformed frame reported as the provider's fault rather than a dropped connection. */
export function checkedFrames(): StreamDecoder<EventStreamMessage> {
  const decoder = new EventStreamDecoder();
  const guard = <T>(step: () => T): T => {
    try {
      return step();
    } catch (err) {
      if (err instanceof EventStreamError) throw unexpectedAnswer(BEDROCK_LABEL, 'bedrock', err.message);
      throw err;
    }
  };
  return { push: (bytes) => guard(() => decoder.push(bytes)), end: () => guard(() => decoder.end()) };
}

async function embed(call: ProviderCall): Promise<ProviderAnswer> {
  const fields = providerFields(call.body, EMBEDDING_PARAMS, call.dropParams, 'bedrock');
  const texts = embeddingTexts(fields, BEDROCK_LABEL);
  const family = embeddingFamily(bedrockModelId(call.deployment.model));
  const signed = target(call, 'invoke');
  const dimensions = numberField(fields, 'dimensions');
  let vectors: number[][] = [];
  let tokens = 0;
  if (family === 'titan') {
    const results: { vector: number[]; tokens: number }[] = new Array(texts.length);
    for (let start = 0; start < texts.length; start += TITAN_PARALLEL) {
      await Promise.all(texts.slice(start, start + TITAN_PARALLEL).map(async (text, i) => {
        const { reply, request } = await post(call, signed, titanRequest(text, dimensions), 'application/json');
        const parsed = titanResponseSchema.safeParse(await readJson(reply, request));
        if (!parsed.success) throw unexpectedAnswer(BEDROCK_LABEL, 'bedrock', 'a Titan answer without embedding');
        results[start + i] = { vector: parsed.data.embedding, tokens: parsed.data.inputTextTokenCount ?? headerTokens(reply.res) ?? estimateTokens(text.length) };
      }));
    }
    vectors = results.map((r) => r.vector);
    tokens = results.reduce((n, r) => n + r.tokens, 0);
  } else {
    for (let start = 0; start < texts.length; start += COHERE_BATCH) {
      const batch = texts.slice(start, start + COHERE_BATCH);
      const { reply, request } = await post(call, signed, cohereRequest(batch), 'application/json');
      const parsed = cohereResponseSchema.safeParse(await readJson(reply, request));
      if (!parsed.success) throw unexpectedAnswer(BEDROCK_LABEL, 'bedrock', 'a Cohere answer without embeddings');
      vectors.push(...cohereVectors(parsed.data));
      tokens += headerTokens(reply.res) ?? batch.reduce((n, t) => n + estimateTokens(t.length), 0);
    }
  }
  const usage = reportedUsage(tokens, 0);
  const list = embeddingList(call.deployment.model, vectors, tokens, fields.encoding_format === 'base64');
  return {
    status: 200, contentType: 'application/json', body: JSON.stringify(list),
    outcome: Promise.resolve({ usage, finishedAt: Date.now() }), apiBase: displayBase(signed.url),
  };
}

/** InvokeModel reports the input's token count in a header. */
function headerTokens(res: Response): number | undefined {
  const value = Number(res.headers.get('x-amzn-bedrock-input-token-count'));
  return Number.isInteger(value) && value >= 0 && res.headers.has('x-amzn-bedrock-input-token-count') ? value : undefined;
}

export const bedrock: ProviderAdapter = {
  id: 'bedrock',
  endpoints: new Set(['chat', 'embedding']),
  call: (call) => (call.endpoint === 'embedding' ? embed(call) : chat(call)),
  outgoing(call) {
    // Embeddings go as one InvokeModel request per text (Titan) or batch (Cohere): not one request to show.
    if (call.endpoint !== 'chat') throw new GatewayError('Bedrock is described for chat calls only', { status: 400, type: 'bad_request_error', param: 'call_type' });
    const { signed, payload, accept } = converseRequest(call);
    return { url: signed.url, headers: { ...unsignedHeaders(call, accept), ...unsignedAuth(signed.auth) }, body: payload, secrets: signed.secrets, placeholders: ['authorization'] };
  },
};
