import { openaiChatCompletion } from './openai-format.ts';
import { responseObject, responsesUsage } from './openai-responses.ts';
import { type Answer, type Call, type FakeFile, invalid, isRecord, missing } from './openai-batches-wire.ts';

/**
 * Chat completions and Responses API calls that name the account's files by id (a chat `file` part, an
 * `input_file`), answered as a model that read them would: the first line of each file, quoted. A file id
 * the account does not have is OpenAI's 404, so a test sees which ids reached which account.
 */
export interface FileInputsApi {
  /** A chat completion. */
  chat(call: Call): Answer;
  /** A response; undefined when the input names no file (another fake answers it). */
  respond(call: Call): Answer | undefined;
}

/** Every `file_id` (and `file_ids`' ids, a code_interpreter container's) in a value, wherever it sits. */
function fileIdsIn(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) fileIdsIn(item, found);
  else if (isRecord(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'file_id') found.push(inner);
      else if (key === 'file_ids' && Array.isArray(inner)) found.push(...(inner as unknown[]));
      else fileIdsIn(inner, found);
    }
  }
  return found;
}

export function fileInputsApi(files: Map<string, FakeFile>): FileInputsApi {
  /** What the model "read", or the 404 of a file the account does not have. */
  function read(call: Call, ids: unknown[], param: string): string | Answer {
    const lines: string[] = [];
    for (const id of ids) {
      const file = typeof id === 'string' ? files.get(id) : undefined;
      if (file?.prefix !== call.prefix) return invalid(`No file found with id '${String(id)}'.`, param, null, 404);
      lines.push(`${file.filename}: ${file.content.toString('utf8').split('\n')[0]}`);
    }
    return lines.join('\n');
  }

  return {
    chat(call) {
      const body = call.json;
      if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
      if (typeof body.model !== 'string') return missing('model');
      if (!Array.isArray(body.messages)) return missing('messages');
      const text = read(call, fileIdsIn(body.messages), 'messages');
      if (typeof text !== 'string') return text;
      return { status: 200, body: openaiChatCompletion({ model: body.model, content: text || 'no files', promptTokens: 10, completionTokens: 5 }) };
    },
    respond(call) {
      const body = call.json;
      const ids = isRecord(body) ? fileIdsIn([body.input, body.tools]) : [];
      if (!isRecord(body) || !ids.length) return undefined;
      const text = read(call, ids, 'input');
      if (typeof text !== 'string') return text;
      return { status: 200, body: responseObject(String(body.model), text, responsesUsage(10, 5)) };
    },
  };
}
