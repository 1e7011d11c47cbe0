// generic_prompt_management: fetching a prompt from the prompt API, its cache, the caller's check, and the API's failures.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { withManagedPrompt } from './apply.ts';
import { failure, prompts } from './apply.fixture.ts';
import { MAX_ANSWER_BYTES } from './fetch-prompt.ts';
import { CACHE_TTL_MS, compileGenericPrompt, keepAnswersApart } from './generic.ts';

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
