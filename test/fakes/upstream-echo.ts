/**
 * The fake upstream's `echo` behaviour: OpenAI's (or Azure OpenAI's) answer to whatever was asked,
 * built from the request itself (chat, legacy completions, embeddings; plain or streamed).
 */
import {
  chatPromptTokens,
  countWords,
  DEFAULT_EMBEDDING_DIMS,
  echoWords,
  type Flavor,
  openaiChatChunks,
  openaiChatCompletion,
  openaiEmbeddings,
  openaiError,
  openaiTextCompletion,
  openaiTextCompletionChunks,
  piecesOf,
  words,
} from './openai-format.ts';
import type { Behaviour, RecordedRequest } from './upstream.ts';
import { type Ctx, pause, sendJson, sendSse } from './upstream-wire.ts';

const ROUTE = /^(?:\/openai\/deployments\/([^/]+))?.*?\/(chat\/completions|completions|embeddings)$/;

export async function echo(ctx: Ctx, recorded: RecordedRequest, b: Extract<Behaviour, { kind: 'echo' }>): Promise<void> {
  const { res } = ctx;
  const match = ROUTE.exec(recorded.path);
  if (recorded.method !== 'POST' || !match) {
    // OpenAI's own wording for an unknown route.
    sendJson(res, 404, openaiError({ message: `Invalid URL (${recorded.method} ${recorded.path})`, type: 'invalid_request_error' }));
    return;
  }
  const req = recorded.body as Record<string, unknown>;
  if (!req || typeof req !== 'object' || Array.isArray(req)) {
    sendJson(res, 400, openaiError({ message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' }));
    return;
  }
  const deployment = match[1];
  const flavor: Flavor = deployment !== undefined ? 'azure' : 'openai';
  const model = b.model ?? (typeof req.model === 'string' ? req.model : (deployment ?? 'unknown-model'));
  const includeUsage = (req.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const headers = b.headers ?? {};
  if (!(await pause(ctx, b.delayMs))) return;

  if (match[2] === 'embeddings') {
    const raw = req.input;
    // One string or token array is one input; a list of either is many.
    const list: unknown[] = Array.isArray(raw) && raw.length > 0 && typeof raw[0] !== 'number' ? raw : [raw];
    const inputs = list.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
    const promptTokens = list.reduce<number>((n, x) => n + (typeof x === 'string' ? countWords(x) : Array.isArray(x) ? x.length : 0), 0);
    const dims = typeof req.dimensions === 'number' ? req.dimensions : DEFAULT_EMBEDDING_DIMS;
    const encodingFormat = req.encoding_format === 'base64' ? 'base64' : 'float';
    sendJson(res, 200, openaiEmbeddings({ model, inputs, dims, promptTokens, encodingFormat }), headers);
    return;
  }

  const limit = numberOr(req.max_completion_tokens, req.max_tokens);
  const cut = (all: string[]) => (limit !== undefined && all.length > limit ? { words: all.slice(0, limit), finish: 'length' as const } : { words: all, finish: 'stop' as const });

  if (match[2] === 'chat/completions') {
    const messages = Array.isArray(req.messages) ? (req.messages as unknown[]) : [];
    const answer = cut(echoWords(messages));
    const common = { model, promptTokens: chatPromptTokens(messages), completionTokens: answer.words.length, cachedTokens: b.cachedTokens, finishReason: answer.finish, flavor };
    if (req.stream !== true) {
      sendJson(res, 200, openaiChatCompletion({ ...common, content: answer.words.join(' ') }), headers);
      return;
    }
    const events = [...openaiChatChunks({ ...common, pieces: piecesOf(answer.words), includeUsage }), '[DONE]'];
    await sendSse(ctx, { kind: 'sse', events, intervalMs: b.intervalMs, headers });
    return;
  }

  // Legacy completions: the prompt's words are the prompt tokens (no per-message overhead).
  const prompts = Array.isArray(req.prompt) ? req.prompt.map((p) => (typeof p === 'string' ? p : '')) : [typeof req.prompt === 'string' ? req.prompt : ''];
  const promptTokens = prompts.reduce((n, p) => n + countWords(p), 0);
  const answers = prompts.map((p) => cut(['echo:', ...words(p)]));
  const completionTokens = answers.reduce((n, a) => n + a.words.length, 0);
  const first = answers[0]!;
  if (req.stream !== true) {
    const text = answers.map((a) => a.words.join(' '));
    sendJson(res, 200, openaiTextCompletion({ model, text, promptTokens, completionTokens, finishReason: first.finish, flavor }), headers);
    return;
  }
  const events = [...openaiTextCompletionChunks({ model, pieces: piecesOf(first.words), promptTokens, completionTokens: first.words.length, includeUsage, finishReason: first.finish }), '[DONE]'];
  await sendSse(ctx, { kind: 'sse', events, intervalMs: b.intervalMs, headers });
}

function numberOr(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  return undefined;
}
