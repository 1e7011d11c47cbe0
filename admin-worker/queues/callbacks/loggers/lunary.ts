/**
 * LiteLLM's `lunary` callback (LunaryLogger, through Lunary's SDK): each call's StandardLoggingPayload as one Lunary
 * run of two events, `start` (the model as its name, the prompt, the end user, tags, metadata, params) then `end`
 * (the answer and token counts) or, for a failed call, `error`. Batches go as `{events: [...]}` to
 * `<LUNARY_API_URL>/v1/runs/ingest` with `Authorization: Bearer <key>` (LUNARY_PRIVATE_KEY, else LUNARY_PUBLIC_KEY,
 * as the SDK reads them). A run's id is the SDK's: the first 128 bits of SHA-256 over the call id and the key, so
 * it is the id LiteLLM's own logger would give the call, and a batch sent again names the same runs (Lunary refuses
 * a second `start` of a run, and an `end` only rewrites it). Lunary answers 200 with a result per event: the
 * events it refused are logged and counted as the callback's failure.
 */
import { runtimeConfig } from '../../../../worker/config/runtime.ts';
import { STANDARD_LOGGERS, standardLoggerMessageLogging } from '../../../../worker/telemetry/standard/registry.ts';
import { langsmithRequestIds } from '../../../../worker/telemetry/standard/requester-ids.ts';
import type { EventSegment } from '../segment.ts';
import { ingestRequests, postIngest, type RunEvents } from './lunary-ingest.ts';
import { clientMetadata, isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { responsesChoice } from './responses-answer.ts';
import { hexDigest } from './s3-key.ts';
import { loggerSecrets, scrub } from './secrets.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostResult } from './types.ts';

/** Lunary's hosted API (the SDK's default). */
const LUNARY_DEFAULT_URL = 'https://api.lunary.ai';

const encoder = new TextEncoder();

/** The SDK's run id for a call id and a key: SHA-256 of the two, its first 32 hex digits as a UUID. */
export async function lunaryRunId(callId: string, key: string): Promise<string> {
  const hex = await hexDigest('SHA-256', encoder.encode(`${callId}${key}`));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A tool call as LiteLLM passes it on: type, id and the function's name and arguments (others are left out). */
function toolCall(call: unknown): Json | undefined {
  if (!isObject(call) || !isObject(call.function)) return undefined;
  return { type: call.type, id: call.id, function: { name: call.function.name, arguments: call.function.arguments } };
}

/** A message (or a choice, by its message) as LiteLLM cleans it: role, content, and tool calls when there are any. */
function cleanMessage(message: unknown): unknown {
  if (!isObject(message)) return message;
  if (isObject(message.message)) return cleanMessage(message.message);
  // Not a message (a prompt cut for size is bounded JSON's marker): sent as it is.
  if (!('role' in message) && !('content' in message)) return message;
  const out: Json = { role: message.role ?? null, content: message.content ?? null };
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.map(toolCall).filter((c) => c !== undefined) : [];
  if (calls.length) out.tool_calls = calls;
  return out;
}

/** LiteLLM's parse_messages: each message cleaned, and a list of one as that one message (Lunary shows it so). */
export function lunaryMessages(input: unknown): unknown {
  if (input === null || input === undefined) return undefined;
  if (!Array.isArray(input)) return cleanMessage(input);
  return input.length === 1 ? cleanMessage(input[0]) : input.map(cleanMessage);
}

/**
 * The answer as LiteLLM reads it: a chat completion's choices (their messages), an answer's text, none for
 * embeddings; a Responses answer as the one chat message its text and tool calls make.
 */
function outputOf(response: unknown): unknown {
  if (typeof response === 'string') return response;
  if (!isObject(response)) return undefined;
  if (Array.isArray(response.choices)) return lunaryMessages(response.choices);
  const responses = responsesChoice(response);
  if (responses) return lunaryMessages(responses);
  return typeof response.text === 'string' ? response.text : undefined;
}

/** Parameters LiteLLM leaves out of a run's params: request plumbing and the end user (the run's userId). */
const DROPPED_PARAMS = new Set(['extra_body', 'extra_headers', 'user']);

/** The call's parameters, as LiteLLM keeps them: strings, numbers and booleans as they are, anything else as text. */
function paramsOf(payload: Json): Json {
  const params: Json = {};
  for (const [k, v] of Object.entries(isObject(payload.model_parameters) ? payload.model_parameters : {})) {
    if (DROPPED_PARAMS.has(k) || v === null || v === undefined) continue;
    params[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return params;
}

const LUNARY = STANDARD_LOGGERS.find((l) => l.name === 'lunary')!;

/**
 * Whether the gateway sends lunary the client's metadata: not with `callback_settings.lunary.message_logging:
 * false` (the config as the gateway reads it, loaded here when a batch is sent), nor when the config does not load.
 */
function lunaryMessageLogging(env: LoggerEnv): boolean {
  try {
    return standardLoggerMessageLogging(runtimeConfig(env).config, LUNARY);
  } catch {
    return false;
  }
}

/**
 * The client's metadata keys a run carries: all of them, as LiteLLM passes the metadata whole, unless the gateway
 * left them out, when only the identifiers it keeps for other loggers are left (requester-ids.ts), which are not
 * the run's to carry: with message logging off for lunary, when the metadata was cut for size (its truncation
 * marker), and when the whole payload was shrunk to fit a queue message (it then has no prompt at all, `null`,
 * and nothing of the client's metadata but those identifiers).
 */
function clientKeysOf(payload: Json, messageLogging: boolean): Json {
  const { keys, cut } = clientMetadata(payload);
  if (!messageLogging || cut) return {};
  const kept = langsmithRequestIds(keys) ?? {};
  const names = Object.keys(keys);
  const keptOnly = names.length === Object.keys(kept).length && names.every((k) => JSON.stringify(keys[k]) === JSON.stringify(kept[k]));
  return payload.messages === null && keptOnly ? {} : keys;
}

/**
 * The call's metadata as LiteLLM's proxy hands it to the logger: the client's own keys (clientKeysOf) beside the
 * gateway's attribution (the key's hash, team, user, spend_logs_metadata, guardrails), which wins over a client's
 * same-named keys; empty fields left out.
 */
function metadataOf(payload: Json, messageLogging: boolean): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const gateway = Object.entries(m).filter(([k]) => k !== 'requester_metadata');
  return Object.fromEntries([...Object.entries(clientKeysOf(payload, messageLogging)), ...gateway].filter(([, v]) => v !== null && v !== undefined));
}

const iso = (seconds: unknown): string => new Date((typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : 0) * 1000).toISOString();
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** An event without its empty fields (the SDK sends them as null; Lunary reads a missing one the same). */
const defined = (event: Json): Json => Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined && v !== null));

/** The ids a payload's run uses: its own, and the run it belongs under when the client names one. */
export interface RunIds { runId: string; parentRunId?: string }

/**
 * A payload's two events, as LiteLLM's log_event sends them: `start` at the call's start time, with the model as
 * the run's name, the prompt, the end user, the request's tags, the metadata and the parameters; then, at its end
 * time, `end` with the answer and token counts, or `error` with what went wrong. An embedding is an `embed` run,
 * anything else an `llm` one. A prompt and answer the gateway redacted (message logging off) stay redacted.
 * `messageLogging`: whether lunary's message logging is on in the config (clientKeysOf).
 */
export function lunaryEvents(payload: Json, ids: RunIds, messageLogging = true): Json[] {
  const type = payload.call_type === 'aembedding' ? 'embed' : 'llm';
  const tags = Array.isArray(payload.request_tags) && payload.request_tags.length ? payload.request_tags : undefined;
  const start = defined({
    event: 'start', type, name: payload.model, userId: typeof payload.end_user === 'string' && payload.end_user ? payload.end_user : undefined,
    tags, runId: ids.runId, parentRunId: ids.parentRunId, timestamp: iso(payload.startTime), input: lunaryMessages(payload.messages),
    runtime: 'litellm', metadata: metadataOf(payload, messageLogging), params: paramsOf(payload),
  });
  const common = { type, runId: ids.runId, timestamp: iso(payload.endTime), runtime: 'litellm' };
  if (payload.status === 'failure') {
    const info = isObject(payload.error_information) ? payload.error_information : {};
    const message = typeof payload.error_str === 'string' ? payload.error_str : String(info.error_class ?? 'error');
    const stack = typeof info.traceback === 'string' && info.traceback ? info.traceback : message;
    return [start, defined({ event: 'error', ...common, error: { message, stack } })];
  }
  const tokensUsage = { prompt: num(payload.prompt_tokens), completion: num(payload.completion_tokens) };
  return [start, defined({ event: 'end', ...common, output: outputOf(payload.response), tokensUsage })];
}

interface LunaryTarget { url: string; key: string; headers: Record<string, string> }

/** The ingest URL and key, or why there is none. */
function lunaryTarget(env: LoggerEnv): LunaryTarget | { error: string } {
  const key = envText(env, 'LUNARY_PRIVATE_KEY') ?? envText(env, 'LUNARY_PUBLIC_KEY');
  if (!key) return { error: 'LUNARY_PUBLIC_KEY is not set for the admin Worker' };
  const base = httpUrl(envText(env, 'LUNARY_API_URL') ?? LUNARY_DEFAULT_URL, 'LUNARY_API_URL');
  if ('error' in base) return base;
  const url = `${base.toString().replace(/\/+$/, '')}/v1/runs/ingest`;
  return { url, key, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
}

/** The client's `parent_run_id` as the SDK reads it: a string, or a number as its text (anything else is none). */
function parentCallId(payload: Json): string | undefined {
  const parent = clientMetadata(payload).keys.parent_run_id;
  if (typeof parent === 'number' && Number.isFinite(parent)) return String(parent);
  return typeof parent === 'string' && parent ? parent : undefined;
}

/** The segments' payloads as runs of events, each payload's start then its end or error. */
async function runsOf(segments: readonly EventSegment[], key: string, messageLogging: boolean): Promise<RunEvents[]> {
  const runs: RunEvents[] = [];
  for (const payload of payloadsOf(segments)) {
    // LiteLLM nests the run under the client's `parent_run_id`, whoever made that run (as in LiteLLM, a caller
    // who knows another's call id can nest under it).
    const parent = parentCallId(payload);
    const ids: RunIds = { runId: await lunaryRunId(String(payload.id ?? ''), key) };
    // The SDK derives a parent's id from the one the client gave, as it does the run's.
    if (parent !== undefined) ids.parentRunId = await lunaryRunId(parent, key);
    runs.push({ events: lunaryEvents(payload, ids, messageLogging), ...ids });
  }
  return runs;
}

export const lunaryPoster: LoggerPoster = {
  // Lunary ingests a request's events one after another: runs without a parent are quick, those with one are sent
  // a few a request (lunary-ingest.ts).
  maxPayloads: 50,
  maxBytes: 4 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = lunaryTarget(env);
    if ('error' in target) return target;
    const messageLogging = lunaryMessageLogging(env);
    return {
      where: new URL(target.url).origin,
      post: async (segments): Promise<PostResult> => {
        let runs: RunEvents[];
        try {
          runs = await runsOf(segments, target.key, messageLogging);
        } catch (err) {
          return unreadable(err);
        }
        return postIngest(target.url, target.headers, ingestRequests(runs), (text) => scrub(text, loggerSecrets(env)));
      },
    };
  },
};
