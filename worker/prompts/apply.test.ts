import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { withManagedPrompt } from './apply.ts';
import { MAX_ANSWER_BYTES } from './fetch-prompt.ts';
import { CACHE_TTL_MS, compileGenericPrompt, keepAnswersApart } from './generic.ts';
import { promptsSchema } from './schema.ts';

const prompts = promptsSchema.parse([
  { prompt_id: 'helper', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: '---\nmodel: gpt-4o\ntemperature: 0.2\n---\nSystem: Help with {{topic}}.' } },
  { prompt_id: 'keep', litellm_params: { prompt_integration: 'dotprompt', ignore_prompt_manager_model: true, ignore_prompt_manager_optional_params: true, dotprompt_content: '---\nmodel: gpt-4o\ntemperature: 0.2\n---\nSystem: Fixed.' } },
  { prompt_id: 'remote', litellm_params: { prompt_integration: 'generic_prompt_management', api_base: 'https://prompts.example/', api_key: 'pk-secret', provider_specific_query_params: { project: 'p1' }, timeout: 0.05 } },
  { prompt_id: 'hl', litellm_params: { prompt_integration: 'humanloop' } },
]);

const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as GatewayError);

describe('a chat body naming a prompt', () => {
  it("puts the prompt's messages first; its model and settings win over the request's, as LiteLLM merges them", async () => {
    const body = { model: 'mini', temperature: 1, user: 'u1', prompt_id: 'helper', prompt_variables: { topic: 'maths' }, messages: [{ role: 'user', content: '2+2?' }] };
    expect(await withManagedPrompt(body, prompts)).toEqual({
      ...body, model: 'gpt-4o', temperature: 0.2, messages: [{ role: 'system', content: 'Help with maths.' }, { role: 'user', content: '2+2?' }],
    });
  });

  it('keeps the request model and settings when the prompt says to ignore its own', async () => {
    const out = await withManagedPrompt({ model: 'mini', temperature: 1, prompt_id: 'keep' }, prompts);
    expect(out).toMatchObject({ model: 'mini', temperature: 1, messages: [{ role: 'system', content: 'Fixed.' }] });
  });

  it("sends a prompt's provider settings only: nothing that steers the gateway, names the caller or replaces the model", async () => {
    const steering = promptsSchema.parse([{ prompt_id: 'steer', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: [
      '---', 'temperature: 0.3', 'top_k: 5', 'mock_response: hi', 'user: someone', 'metadata: {"tags": ["x"]}', 'tags: [free]', 'fallbacks: [big]',
      'num_retries: 9', 'timeout: 1', 'no-log: true', 'cache: {no-cache: true}', 'model: gpt-4o', 'messages: []', 'stream: true',
      'litellm_metadata: {}', 'api_base: http://evil', 'input_cost_per_token: 0', '---', 'System: hi',
    ].join('\n') } }]);
    const out = await withManagedPrompt({ model: 'mini', prompt_id: 'steer', messages: [{ role: 'user', content: 'q' }] }, steering);
    expect(out).toEqual({ model: 'gpt-4o', prompt_id: 'steer', temperature: 0.3, top_k: 5, messages: [{ role: 'system', content: 'hi' }, { role: 'user', content: 'q' }] });
    const kept = await withManagedPrompt({ model: 'mini', prompt_id: 'steer' }, [{ ...steering[0]!, litellm_params: { ...steering[0]!.litellm_params, ignore_prompt_manager_model: true } }]);
    expect(kept.model).toBe('mini');
  });

  it('leaves a body without prompt_id as it is', async () => {
    const body = { model: 'm', messages: [] };
    expect(await withManagedPrompt(body, prompts)).toBe(body);
  });

  it('refuses an unknown prompt, an integration not built, and malformed prompt fields with 400s', async () => {
    expect((await failure(withManagedPrompt({ prompt_id: 'nope' }, prompts))).message).toMatch(/"nope" is not a prompt/);
    expect((await failure(withManagedPrompt({ prompt_id: 'hl' }, prompts))).message).toMatch(/"humanloop" is not supported/);
    expect((await failure(withManagedPrompt({ prompt_id: 'helper', prompt_variables: ['x'] }, prompts))).param).toBe('prompt_variables');
    expect((await failure(withManagedPrompt({ prompt_id: 7 }, prompts))).status).toBe(400);
  });
});

describe('generic_prompt_management', () => {
  const promptAnswer = { prompt_id: 'remote', prompt_template: [{ role: 'system', content: 'Do {task}.' }], prompt_template_model: 'gpt-4o', prompt_template_optional_params: { max_tokens: 9 } };
  const fakeFetch = (respond: () => Response | Promise<Response>, seen: Request[] = []) =>
    (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return respond();
    }) as typeof fetch;

  it('GETs the prompt with its query params and bearer key, substitutes {vars}, and keeps the answer per isolate for a while', async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(promptAnswer), seen);
    const spec = prompts[2]!;
    const now = 1_000_000;
    const first = await compileGenericPrompt(spec, { promptId: 'remote', variables: { task: 'tests' } }, f, now);
    expect(first).toEqual({ messages: [{ role: 'system', content: 'Do tests.' }], model: 'gpt-4o', params: { max_tokens: 9 } });
    const url = new URL(seen[0]!.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://prompts.example/beta/litellm_prompt_management');
    expect(Object.fromEntries(url.searchParams)).toEqual({ prompt_id: 'remote', project: 'p1' });
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer pk-secret');
    // A label or version the caller makes up is not sent, so neither grows the cache nor bypasses it.
    for (const [i, extra] of [{}, { version: '7' }].entries()) await compileGenericPrompt(spec, { promptId: 'remote', variables: { task: 'more' }, ...extra }, f, now + CACHE_TTL_MS - 1 - i);
    expect(seen).toHaveLength(1);
    await compileGenericPrompt(spec, { promptId: 'remote', variables: {}, version: '8' }, f, now + CACHE_TTL_MS);
    expect(seen).toHaveLength(2);
  });

  it("a stored prompt's versions (and each change of one) keep answers of their own; a config prompt's are shared", async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(promptAnswer), seen);
    const row = (key: string) => keepAnswersApart({ prompt_id: 'stored-remote', litellm_params: { ...prompts[2]!.litellm_params, api_key: key } });
    const [v1, v2, v2Patched] = [row('pk-one'), row('pk-one'), row('pk-two')];
    for (const spec of [v1, v1, v2, v2Patched]) await compileGenericPrompt(spec, { promptId: 'stored-remote', variables: {} }, f, 5_000_000);
    expect(seen.map((r) => r.headers.get('authorization'))).toEqual(['Bearer pk-one', 'Bearer pk-one', 'Bearer pk-two']);
    const config = { ...prompts[2]!, prompt_id: 'config-remote' };
    for (const spec of [config, { ...config }]) await compileGenericPrompt(spec, { promptId: 'config-remote', variables: {} }, f, 5_000_000);
    expect(seen).toHaveLength(4);
  });

  it('calls arriving while the prompt is fetched each fetch it: no promise is shared across requests', async () => {
    const seen: Request[] = [];
    const replies: ((r: Response) => void)[] = [];
    const f = fakeFetch(() => new Promise<Response>((resolve) => { replies.push(resolve); }), seen);
    const spec = { ...prompts[2]!, prompt_id: 'remote-each' };
    const calls = [1, 2].map((n) => compileGenericPrompt(spec, { promptId: 'remote-each', variables: { task: String(n) } }, f));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toHaveLength(2);
    // The first request's fetch never ends (its client went away): the second still gets its answer.
    replies[1]!(Response.json(promptAnswer));
    expect((await calls[1]!).messages[0]!.content).toBe('Do 2.');
  });

  it('confirms the caller only before asking the prompt API: a kept answer or a dotprompt needs no check', async () => {
    let checks = 0;
    const confirm = async () => { checks++; };
    const spec = { ...prompts[2]!, prompt_id: 'remote-confirm' };
    const f = fakeFetch(() => Response.json(promptAnswer));
    await withManagedPrompt({ prompt_id: 'remote-confirm' }, [spec], confirm, f);
    await withManagedPrompt({ prompt_id: 'remote-confirm' }, [spec], confirm, f);
    await withManagedPrompt({ prompt_id: 'helper', prompt_variables: { topic: 'x' } }, prompts, confirm, f);
    expect(checks).toBe(1);
    const seen: Request[] = [];
    const refused = await failure(withManagedPrompt({ prompt_id: 'remote-refused' }, [{ ...spec, prompt_id: 'remote-refused' }], async () => { throw new GatewayError('blocked', { status: 403, type: 'auth_error' }); }, fakeFetch(() => Response.json(promptAnswer), seen)));
    expect([refused.status, seen.length]).toEqual([403, 0]);
  });

  it("refuses a caller's messages that are not a list with a 400 naming messages, asking no prompt API", async () => {
    const seen: Request[] = [];
    const spec = { ...prompts[2]!, prompt_id: 'remote-messages' };
    for (const messages of [{ role: 'user', content: 'hi' }, 'hi']) {
      const refused = await failure(withManagedPrompt({ prompt_id: 'remote-messages', messages }, [spec], undefined, fakeFetch(() => Response.json(promptAnswer), seen)));
      expect([refused.status, refused.param, refused.message]).toEqual([400, 'messages', 'messages: messages must be a list of messages']);
    }
    expect(seen).toHaveLength(0);
    expect((await failure(withManagedPrompt({ prompt_id: 'helper', messages: 'hi' }, prompts))).param).toBe('messages');
  });

  it('does not follow a redirect, reads at most MAX_ANSWER_BYTES, and an answer that stalls is a 504', async () => {
    const spec = prompts[2]!;
    const call = (id: string, f: typeof fetch) => failure(compileGenericPrompt({ ...spec, prompt_id: `remote-${id}` }, { promptId: `remote-${id}`, variables: {} }, f));
    const inits: RequestInit[] = [];
    const redirecting = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      inits.push(init!);
      return new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } });
    }) as typeof fetch;
    const moved = await call('moved', redirecting);
    expect([moved.status, moved.message]).toEqual([502, 'prompt "remote-moved": the prompt API redirected (302); redirects are not followed']);
    expect(inits[0]!.redirect).toBe('manual');
    const huge = await call('huge', fakeFetch(() => new Response(`{"prompt_template": [], "pad": "${'x'.repeat(MAX_ANSWER_BYTES)}"}`)));
    expect([huge.status, huge.message]).toEqual([502, 'prompt "remote-huge": the prompt API answered more than 1 MB']);
    // Headers come at once; the body never ends, until the prompt's timeout aborts the read.
    const stalling = (async (_input: RequestInfo | URL, init?: RequestInit) => new Response(new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"prompt_template": ['));
        init!.signal!.addEventListener('abort', () => controller.error(init!.signal!.reason));
      },
    }))) as typeof fetch;
    const stalled = await call('stalled', stalling);
    expect([stalled.status, stalled.type]).toEqual([504, 'timeout_error']);
  });

  it('a failing, malformed or hanging prompt API fails the call without its key in the message', async () => {
    const spec = prompts[2]!;
    // Each case its own prompt, so no answer kept by another test stands in for the failure.
    const call = (id: string, f: typeof fetch) => failure(compileGenericPrompt({ ...spec, prompt_id: `remote-${id}` }, { promptId: `remote-${id}`, variables: {} }, f));
    // As some servers do, the failure echoes the request's credentials: the error must not pass them on.
    const echoing = (async (input: RequestInfo | URL, init?: RequestInit) => new Response(`boom for ${new Request(input, init).headers.get('authorization')}`, { status: 500 })) as typeof fetch;
    const e500 = await call('500', echoing);
    expect([e500.status, e500.message]).toEqual([502, 'prompt "remote-500": the prompt API answered 500']);
    expect((await call('404', fakeFetch(() => new Response('{}', { status: 404 })))).status).toBe(404);
    expect((await call('bad', fakeFetch(() => Response.json({ prompt_template: 'x' })))).status).toBe(502);
    const hang = fakeFetch(() => new Promise<Response>(() => undefined));
    const slow = (async (input: RequestInfo | URL, init?: RequestInit) => Promise.race([hang(input, init), new Promise<never>((_, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)))])) as typeof fetch;
    const timedOut = await call('hang', slow);
    expect([timedOut.status, timedOut.type]).toEqual([504, 'timeout_error']);
    for (const e of [e500, timedOut]) expect(e.message).not.toContain('pk-secret');
  });
});

describe('a chat body naming a stored prompt (/prompts)', () => {
  const v1 = { prompt_id: 'greet', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: 'System: First.' } };
  const v2 = { prompt_id: 'greet', litellm_params: { prompt_integration: 'dotprompt', dotprompt_content: 'System: Second.' } };
  const asked: [string, string | undefined][] = [];
  const stored = async (id: string, version: string | undefined) => {
    asked.push([id, version]);
    if (id === 'greet' && version === undefined) return { spec: v2, version: 2, versionTaken: false };
    if ((id === 'greet' && version === '1') || id === 'greet.v1') return { spec: v1, version: 1, versionTaken: true };
    return undefined;
  };

  it("is found after config.yaml's, which wins for its own ids and is never looked up", async () => {
    const out = await withManagedPrompt({ model: 'mini', prompt_id: 'greet', messages: [{ role: 'user', content: 'q' }] }, prompts, undefined, fetch, stored);
    expect(out.messages).toEqual([{ role: 'system', content: 'Second.' }, { role: 'user', content: 'q' }]);
    asked.length = 0;
    const configured = await withManagedPrompt({ model: 'mini', prompt_id: 'helper', prompt_variables: { topic: 't' } }, prompts, undefined, fetch, stored);
    expect([configured.model, asked]).toEqual(['gpt-4o', []]);
  });

  it('a version by `<id>.v<n>` or a dotprompt\'s prompt_version; none stored is the 400 naming both places', async () => {
    for (const body of [{ prompt_id: 'greet.v1' }, { prompt_id: 'greet', prompt_version: 1 }]) {
      expect((await withManagedPrompt({ model: 'mini', ...body }, prompts, undefined, fetch, stored)).messages).toEqual([{ role: 'system', content: 'First.' }]);
    }
    const unknown = await failure(withManagedPrompt({ model: 'mini', prompt_id: 'nope' }, prompts, undefined, fetch, stored));
    expect([unknown.status, unknown.param, unknown.message]).toEqual([400, 'prompt_id', 'prompt_id "nope" is not a prompt of config.yaml\'s prompts nor a stored prompt (/prompts)']);
  });

  it('the lookup gets the key check (to run before it waits for the database); without a lookup the 400 names config.yaml alone', async () => {
    const check = async () => undefined;
    let given: unknown;
    await withManagedPrompt({ model: 'mini', prompt_id: 'greet' }, prompts, check, fetch, async (id, version, confirm) => {
      given = confirm;
      return stored(id, version);
    });
    expect(given).toBe(check);
    const none = await failure(withManagedPrompt({ model: 'mini', prompt_id: 'nope' }, prompts, check, fetch, undefined));
    expect([none.status, none.message]).toEqual([400, 'prompt_id "nope" is not a prompt of config.yaml\'s prompts']);
  });
});
