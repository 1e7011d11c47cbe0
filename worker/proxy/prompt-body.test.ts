import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { GatewayError } from '../errors.ts';
import { chatRequestSchema } from '../openai/request-schemas.ts';
import { promptedBody, refuseUnappliedPrompt } from './prompt-body.ts';

// A call naming a managed prompt meets the key check before anything of the prompt is asked for or refused, as
// LiteLLM authenticates first: a caller without a valid key gets its 401, never a prompt's refusal or a prompt API call.

const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as GatewayError);

const langfusePrompt = (promptId: string) => ({
  prompt_id: promptId,
  litellm_params: { prompt_integration: 'langfuse', langfuse_host: 'https://lf.example', langfuse_public_key: 'pk-lf-1', langfuse_secret_key: 'sk-lf-1' },
});
const loaded = validateConfig({ prompts: ['fetched-then-refused', 'never-fetched', 'passes', 'merged'].map(langfusePrompt) }, {});
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const prompts = loaded.config.prompts!;

/** Langfuse's prompts API, stubbed: a chat prompt whose placeholder `history` a call must fill; the URLs asked. */
function stubLangfuse(): string[] {
  const asked: string[] = [];
  const chat = { name: 'c', version: 1, type: 'chat', config: {}, labels: ['production'], prompt: [{ type: 'placeholder', name: 'history' }] };
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    asked.push(input instanceof Request ? input.url : String(input));
    return Response.json(chat);
  });
  return asked;
}
afterEach(() => {
  vi.unstubAllGlobals();
});

/** The key check as model-call.ts passes it, counted: the known key's, or an unknown key's 401. */
function keyCheck(known: boolean) {
  const check = async () => {
    check.calls++;
    if (!known) throw new GatewayError('Authentication Error, Invalid proxy server token passed.', { status: 401, type: 'auth_error' });
  };
  check.calls = 0;
  return check;
}

/** The chat schema's check, as call-body.ts's `validated` refuses a body: a 400 naming the first field. */
function checked(body: Record<string, unknown>): Record<string, unknown> {
  const parsed = chatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new GatewayError(parsed.error.issues[0]!.message, { status: 400, type: 'bad_request_error', param: parsed.error.issues[0]!.path.map(String).join('.') });
}
const chat = (body: Record<string, unknown>, check: () => Promise<void>) => promptedBody(body, prompts, check, checked);
const history = [{ role: 'user', content: 'hi' }];

describe('a chat body naming a managed prompt', () => {
  it('checks the key once across a Langfuse fetch and the refusal that follows it; a kept prompt then refuses a bad key with its 401', async () => {
    const asked = stubLangfuse();
    const known = keyCheck(true);
    const refused = await failure(chat({ model: 'm', prompt_id: 'fetched-then-refused', prompt_variables: {} }, known));
    expect([refused.status, refused.param, known.calls, asked.length]).toEqual([400, 'prompt_variables', 1, 1]);
    const unknown = keyCheck(false);
    const kept = await failure(chat({ model: 'm', prompt_id: 'fetched-then-refused', prompt_variables: {} }, unknown));
    expect([kept.status, kept.message, unknown.calls, asked.length]).toEqual([401, 'Authentication Error, Invalid proxy server token passed.', 1, 1]);
  });

  it('answers a failing key check with its 401 and asks Langfuse nothing', async () => {
    const asked = stubLangfuse();
    const unknown = keyCheck(false);
    const refused = await failure(chat({ model: 'm', prompt_id: 'never-fetched' }, unknown));
    expect([refused.status, unknown.calls, asked]).toEqual([401, 1, []]);
  });

  it('refuses a bad key with its 401 before a kept prompt\'s merged messages are refused, naming their layout', async () => {
    stubLangfuse();
    await chat({ model: 'm', prompt_id: 'merged', prompt_variables: { history } }, keyCheck(true));
    const bogus = { model: 'm', prompt_id: 'merged', prompt_variables: { history: [{ role: 'bogus', content: 'hi' }] } };
    expect((await failure(chat(bogus, keyCheck(false)))).status).toBe(401);
    expect((await failure(chat(bogus, keyCheck(true)))).param).toBe('messages.0.role');
  });

  it('checks no key for a body naming no prompt, nor for a kept prompt that compiles (admission checks it later)', async () => {
    const asked = stubLangfuse();
    const known = keyCheck(true);
    expect(await chat({ model: 'm', messages: history }, known)).toEqual({ model: 'm', messages: history });
    expect(known.calls).toBe(0);
    await chat({ model: 'm', prompt_id: 'passes', prompt_variables: { history } }, known);
    const unknown = keyCheck(false);
    expect(await chat({ model: 'm', prompt_id: 'passes', prompt_variables: { history } }, unknown)).toMatchObject({ messages: history });
    expect([known.calls, unknown.calls, asked.length]).toEqual([1, 0, 1]);
  });
});

describe('a body naming a prompt that is not applied', () => {
  const storedNone = async () => undefined;

  it('is a 401 for a bad key before its 400: a chat naming a prompt neither config.yaml nor the database has, its malformed fields', async () => {
    const cases = [
      [{ model: 'm', prompt_id: 'tutor' }, 'prompt_id'],
      [{ model: 'm', prompt_id: 'tutor', prompt_variables: ['x'] }, 'prompt_variables'],
    ] as const;
    for (const [body, param] of cases) {
      const unknown = keyCheck(false);
      expect([(await failure(promptedBody(body, [], unknown, checked, storedNone))).status, unknown.calls]).toEqual([401, 1]);
      const refused = await failure(promptedBody(body, [], keyCheck(true), checked, storedNone));
      expect([refused.status, refused.param]).toEqual([400, param]);
    }
  });

  it('is a 401 for a bad key before its 400 on another route', async () => {
    const unknown = keyCheck(false);
    expect([(await failure(refuseUnappliedPrompt({ prompt_id: 'tutor' }, '/embeddings', unknown))).status, unknown.calls]).toEqual([401, 1]);
    const refused = await failure(refuseUnappliedPrompt({ prompt_id: 'tutor' }, '/embeddings', keyCheck(true)));
    expect([refused.status, refused.param, refused.message]).toEqual([400, 'prompt_id', 'prompt_id is not supported on /embeddings: managed prompts apply to /v1/chat/completions only']);
  });
});
