import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { GatewayError } from '../errors.ts';
import { CACHE_TTL_MS, compileLangfuse, NOT_FOUND_TTL_MS } from './langfuse.ts';
import type { PromptSpec } from './schema.ts';

const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as GatewayError);

/** config.yaml's prompts as the gateway loads them against `env`. */
function loaded(prompts: unknown[], env: Record<string, unknown> = {}): { prompts: PromptSpec[]; warnings: string[] } {
  const result = validateConfig({ prompts }, env);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return { prompts: result.config.prompts!, warnings: result.warnings.filter((w) => w.startsWith('prompts')) };
}

const fakeFetch = (respond: (req: Request) => Response | Promise<Response>, seen: Request[] = []) =>
  (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push(req);
    return respond(req);
  }) as typeof fetch;

const textPrompt = { name: 'greeting', version: 3, type: 'text', prompt: 'Greet {{name}}.', config: { model: 'big', temperature: 0.4 }, labels: ['production'], tags: [] };

describe("a langfuse prompt's credentials", () => {
  it("takes its own keys and host, LiteLLM's langfuse_secret name too, and falls back to LANGFUSE_* for the environment's host", () => {
    const { prompts, warnings } = loaded([
      { prompt_id: 'own', litellm_params: { prompt_integration: 'langfuse', langfuse_public_key: 'pk-own', langfuse_secret: 'os.environ/OWN_SECRET', langfuse_host: 'lf.internal:3000/' } },
      { prompt_id: 'env', litellm_params: { prompt_integration: 'langfuse' } },
    ], { OWN_SECRET: 'sk-own', LANGFUSE_PUBLIC_KEY: 'pk-env', LANGFUSE_SECRET_KEY: 'sk-env', LANGFUSE_TIMEOUT: '2' });
    expect(warnings).toEqual([]);
    expect(prompts[0]!.litellm_params).toMatchObject({ langfuse_host: 'http://lf.internal:3000', langfuse_public_key: 'pk-own', langfuse_secret_key: 'sk-own', timeout: 2 });
    expect(prompts[0]!.litellm_params.langfuse_secret).toBeUndefined();
    expect(prompts[1]!.litellm_params).toMatchObject({ langfuse_host: 'https://cloud.langfuse.com', langfuse_public_key: 'pk-env', langfuse_secret_key: 'sk-env' });
  });

  it("never gives the environment's keys to another host, and warns about a prompt left without keys", () => {
    const { prompts, warnings } = loaded([
      { prompt_id: 'elsewhere', litellm_params: { prompt_integration: 'langfuse', langfuse_host: 'https://evil.example' } },
      { prompt_id: 'same', litellm_params: { prompt_integration: 'langfuse', langfuse_host: 'https://lf.example/' } },
    ], { LANGFUSE_HOST: 'https://lf.example', LANGFUSE_PUBLIC_KEY: 'pk-env', LANGFUSE_SECRET_KEY: 'sk-env' });
    expect(prompts[0]!.litellm_params.langfuse_public_key).toBeUndefined();
    expect(prompts[0]!.litellm_params.langfuse_secret_key).toBeUndefined();
    expect(prompts[1]!.litellm_params).toMatchObject({ langfuse_public_key: 'pk-env', langfuse_secret_key: 'sk-env' });
    expect(warnings).toEqual(['prompts[0].litellm_params: no Langfuse public and secret key (langfuse_public_key and langfuse_secret_key, or LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, which are sent only to LANGFUSE_HOST): calls with prompt_id "elsewhere" are refused']);
  });

  it('refuses a langfuse_host that is not a plain URL at load, and a call to a prompt without keys with a 400 asking nothing', async () => {
    const bad = validateConfig({ prompts: [{ prompt_id: 'x', litellm_params: { prompt_integration: 'langfuse', langfuse_host: 'https://u:p@lf.example' } }] }, {});
    expect(bad.ok ? [] : bad.errors).toEqual(['prompts[0].litellm_params.langfuse_host: expected a plain http(s) URL']);
    const seen: Request[] = [];
    const { prompts } = loaded([{ prompt_id: 'keyless', litellm_params: { prompt_integration: 'langfuse' } }]);
    const err = await failure(compileLangfuse(prompts[0]!, { promptId: 'keyless', variables: {} }, fakeFetch(() => Response.json(textPrompt), seen)));
    expect([err.status, err.param, seen.length]).toEqual([400, 'prompt_id', 0]);
  });
});

describe("a langfuse prompt's timeout and written secrets", () => {
  it('takes LANGFUSE_TIMEOUT only as seconds above 0, else 20 s, and never waits past 60 s', async () => {
    for (const value of ['Infinity', '0', '-3', 'soon']) {
      const { prompts } = loaded([{ prompt_id: 't', litellm_params: { prompt_integration: 'langfuse' } }], { LANGFUSE_TIMEOUT: value });
      expect(prompts[0]!.litellm_params.timeout).toBe(20);
    }
    const env = { LANGFUSE_HOST: 'https://lf.example', LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk', LANGFUSE_TIMEOUT: '600' };
    const { prompts } = loaded([{ prompt_id: 'slow', litellm_params: { prompt_integration: 'langfuse' } }], env);
    const timedOut = fakeFetch(() => { throw new DOMException('timed out', 'TimeoutError'); });
    const err = await failure(compileLangfuse(prompts[0]!, { promptId: 'slow', variables: {} }, timedOut));
    expect([err.status, err.message]).toEqual([504, 'prompt "slow": Langfuse did not answer within 60s']);
  });

  it('warns about a Langfuse secret written out in config.yaml, not one taken from os.environ/', () => {
    const { warnings } = loaded([
      { prompt_id: 'plain', litellm_params: { prompt_integration: 'langfuse', langfuse_public_key: 'pk', langfuse_secret: 'sk-lf-plain' } },
      { prompt_id: 'plain-key', litellm_params: { prompt_integration: 'langfuse', langfuse_public_key: 'pk', langfuse_secret_key: 'sk-lf-plain' } },
      { prompt_id: 'ref', litellm_params: { prompt_integration: 'langfuse', langfuse_public_key: 'pk', langfuse_secret: 'os.environ/LF_SECRET' } },
    ], { LF_SECRET: 'sk-lf-env' });
    expect(warnings).toEqual([
      'prompts[0].litellm_params.langfuse_secret: compiled into the Worker bundle in plain text; os.environ/NAME (a secret of the Worker) keeps it out',
      'prompts[1].litellm_params.langfuse_secret_key: compiled into the Worker bundle in plain text; os.environ/NAME (a secret of the Worker) keeps it out',
    ]);
  });
});

describe("fetching a langfuse prompt", () => {
  const env = { LANGFUSE_HOST: 'https://lf.example', LANGFUSE_PUBLIC_KEY: 'pk-lf-1', LANGFUSE_SECRET_KEY: 'sk-lf-1' };
  const spec = (id: string, extra: Record<string, unknown> = {}) => loaded([{ prompt_id: id, litellm_params: { prompt_integration: 'langfuse', ...extra } }], env).prompts[0]!;

  it("GETs the v2 prompt by its url-encoded name with Basic auth and the production label, and keeps it for a while", async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(textPrompt), seen);
    const s = spec('greet', { prompt_id: 'team/greeting v2' });
    const now = 5_000_000;
    expect(await compileLangfuse(s, { promptId: 'greet', variables: { name: 'Ada' } }, f, now)).toEqual({
      messages: [{ role: 'system', content: 'Greet Ada.' }], model: 'big', params: { temperature: 0.4 },
    });
    expect(seen[0]!.url).toBe('https://lf.example/api/public/v2/prompts/team%2Fgreeting%20v2?label=production');
    expect(seen[0]!.headers.get('authorization')).toBe(`Basic ${Buffer.from('pk-lf-1:sk-lf-1').toString('base64')}`);
    await compileLangfuse(s, { promptId: 'greet', variables: { name: 'Bo' } }, f, now + CACHE_TTL_MS - 1);
    expect(seen).toHaveLength(1);
    await compileLangfuse(s, { promptId: 'greet', variables: {} }, f, now + CACHE_TTL_MS);
    expect(seen).toHaveLength(2);
  });

  it('asks for the version or label the call names, each kept apart, and refuses both at once or a version that is not a number', async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(textPrompt), seen);
    const s = spec('pick');
    await compileLangfuse(s, { promptId: 'pick', variables: {}, version: '2' }, f);
    await compileLangfuse(s, { promptId: 'pick', variables: {}, label: 'staging' }, f);
    await compileLangfuse(s, { promptId: 'pick', variables: {}, version: '2' }, f);
    expect(seen.map((r) => new URL(r.url).search)).toEqual(['?version=2', '?label=staging']);
    for (const call of [{ version: '2', label: 'staging' }, { version: 'latest' }, { version: '0' }, { label: 'x'.repeat(201) }]) {
      const err = await failure(compileLangfuse(s, { promptId: 'pick', variables: {}, ...call }, f));
      expect(err.status).toBe(400);
    }
    expect(seen).toHaveLength(2);
  });

  it("answers Langfuse's 404 with a 404, its 401 or 500 with a 502 naming no key, a non-prompt with a 502, a hang with a 504", async () => {
    const s = spec('down', { timeout: 0.05 });
    const call = (f: typeof fetch) => failure(compileLangfuse(s, { promptId: 'down', variables: {} }, f));
    for (const status of [401, 500]) {
      const err = await call(fakeFetch((req) => Response.json({ message: `bad ${req.headers.get('authorization')}` }, { status })));
      expect([err.status, err.message]).toEqual([502, `prompt "down": Langfuse answered ${status}`]);
    }
    const odd = await call(fakeFetch(() => Response.json({ type: 'chat', prompt: 'not a list' })));
    expect([odd.status, odd.message]).toEqual([502, 'prompt "down": Langfuse answered without a text or chat prompt']);
    const hanging = fakeFetch((req) => new Promise<Response>((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason))));
    const late = await call(hanging);
    expect([late.status, late.type]).toEqual([504, 'timeout_error']);
    const missing = await call(fakeFetch(() => Response.json({ message: 'Prompt not found', error: 'LangfuseNotFoundError' }, { status: 404 })));
    expect([missing.status, missing.message]).toEqual([404, 'prompt "down": Langfuse does not know this prompt (404)']);
  });

  it("keeps Langfuse's 404 for a few seconds, so a missing label repeated is not a GET per call", async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json({ message: 'Prompt not found', error: 'LangfuseNotFoundError' }, { status: 404 }), seen);
    const s = spec('gone');
    const call = async (now: number) => (await failure(compileLangfuse(s, { promptId: 'gone', variables: {}, label: 'typo' }, f, now))).status;
    const now = 7_000_000;
    expect([await call(now), await call(now + NOT_FOUND_TTL_MS - 1)]).toEqual([404, 404]);
    expect(seen).toHaveLength(1);
    expect(await call(now + NOT_FOUND_TTL_MS)).toBe(404);
    expect(seen).toHaveLength(2);
  });

  it("keeps Langfuse's 404s apart from its prompts, so a flood of made-up labels never pushes a kept prompt out", async () => {
    const seen: Request[] = [];
    const f = fakeFetch((req) => (new URL(req.url).searchParams.get('label') === 'production'
      ? Response.json(textPrompt)
      : Response.json({ message: 'Prompt not found', error: 'LangfuseNotFoundError' }, { status: 404 })), seen);
    const s = spec('flooded');
    const now = 7_500_000;
    await compileLangfuse(s, { promptId: 'flooded', variables: {} }, f, now);
    for (let i = 0; i < 300; i++) expect((await failure(compileLangfuse(s, { promptId: 'flooded', variables: {}, label: `made-up-${i}` }, f, now))).status).toBe(404);
    await compileLangfuse(s, { promptId: 'flooded', variables: {} }, f, now + 1);
    expect(seen.filter((r) => r.url.endsWith('label=production'))).toHaveLength(1);
    // Only the most recent 404s are kept: the first made-up label is asked for again.
    await failure(compileLangfuse(s, { promptId: 'flooded', variables: {}, label: 'made-up-0' }, f, now + 2));
    expect(seen).toHaveLength(302);
  });

  it('keeps prompts apart by secret key: a prompt whose secret differs asks Langfuse again, with its own', async () => {
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(textPrompt), seen);
    const own = (secret: string) => spec('secretive', { prompt_id: 'shared-name', langfuse_secret: secret });
    const now = 8_000_000;
    await compileLangfuse(own('sk-lf-a'), { promptId: 'secretive', variables: {} }, f, now);
    await compileLangfuse(own('sk-lf-b'), { promptId: 'secretive', variables: {} }, f, now);
    expect(seen.map((r) => atob(r.headers.get('authorization')!.slice('Basic '.length)))).toEqual(['pk-lf-1:sk-lf-a', 'pk-lf-1:sk-lf-b']);
  });

  it("confirms the caller's key only before asking Langfuse: a kept prompt compiles or refuses as local work", async () => {
    const chat = { name: 'c', version: 1, type: 'chat', config: {}, labels: ['production'], prompt: [{ type: 'placeholder', name: 'history' }] };
    const seen: Request[] = [];
    const f = fakeFetch(() => Response.json(chat), seen);
    const s = spec('kept-chat');
    const now = 9_000_000;
    let confirmed = 0;
    const confirm = async () => { confirmed++; };
    const ok = await compileLangfuse(s, { promptId: 'kept-chat', variables: { history: [{ role: 'user', content: 'hi' }] } }, f, now, confirm);
    expect([ok.messages, confirmed, seen.length]).toEqual([[{ role: 'user', content: 'hi' }], 1, 1]);
    // The refusal a kept prompt gives waits for the key check in the caller (call-body.ts), which tells a bad key its 401.
    const refused = await failure(compileLangfuse(s, { promptId: 'kept-chat', variables: {} }, f, now + 1, confirm));
    expect([refused.status, refused.param]).toEqual([400, 'prompt_variables']);
    await compileLangfuse(s, { promptId: 'kept-chat', variables: { history: [] } }, f, now + 2, confirm);
    expect([confirmed, seen.length]).toEqual([1, 1]);
  });
});
