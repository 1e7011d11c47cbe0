/**
 * The gateway with Langfuse callbacks on, for the Langfuse suites (langfuse, langfuse-delivery):
 * a fake OpenAI upstream, two fake Langfuse projects (the default one, and one reached only with
 * the credentials in a key's metadata), the stack, and the helpers the tests read them with.
 * Registers its own beforeAll/afterAll, and after each test checks that every batch Langfuse got
 * was well formed.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from '../fakes/langfuse.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { seedKey, seedTeam, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

// gpt-4o's prices in the bundled table: $2.50 / 1M input, $10 / 1M output tokens.
export const GPT4O_IN = 2.5e-6;
export const GPT4O_OUT = 1e-5;
export const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

const config = (upstreamUrl: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
litellm_settings:
  success_callback: ["langfuse"]
  failure_callback: ["langfuse"]
  langfuse_default_tags: ["user_api_key_alias", "user_api_key_team_alias", "cache_hit"]
general_settings:
  # Until the gateway keeps answers for callbacks on its own (see the report), this keeps the answer text.
  store_prompts_in_spend_logs: true
`;

export function useLangfuseStack() {
  let upstream: FakeUpstream;
  let langfuse: FakeLangfuse;
  /** A second project, reached only with the credentials in one key's metadata. */
  let teamLangfuse: FakeLangfuse;
  let stack: TestStack;
  let client: OpenAI;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-default', secretKey: 'sk-lf-default-secret' });
    teamLangfuse = await startFakeLangfuse({ publicKey: 'pk-lf-team', secretKey: 'sk-lf-team-secret' });
    stack = await startTestStack({
      configYaml: config(upstream.url),
      env: {
        FAKE_OPENAI_KEY: 'sk-upstream-openai-0001',
        LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
        LANGFUSE_SECRET_KEY: langfuse.secretKey,
        LANGFUSE_HOST: langfuse.url,
      },
      // Seconds Langfuse gets per ingestion request (10 by default), and a secret a key's metadata names.
      runtimeOnlyEnv: { LANGFUSE_TIMEOUT: '2', TEAM_LANGFUSE_SECRET: teamLangfuse.secretKey },
    });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    await langfuse?.close();
    await teamLangfuse?.close();
  });
  afterEach(() => {
    // Every batch must have been well formed and every event valid against Langfuse's schema.
    expect(langfuse.invalid).toEqual([]);
    expect(teamLangfuse.invalid).toEqual([]);
    expect(langfuse.requests.filter((r) => r.status !== 0 && r.status !== 207 && r.status !== 500)).toEqual([]);
  });

  const generation = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.generations().find((g) => g.id === id));
  const trace = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.traces().find((t) => t.id === id));

  const keyWithTeam = async (options: { alias: string; team: string; teamAlias: string; metadata?: unknown }): Promise<string> => {
    await seedTeam(stack.db.url, { id: options.team, alias: options.teamAlias });
    const key = await seedKey(stack.db.url, { alias: options.alias, teamId: options.team, userId: 'user-7' });
    if (options.metadata) {
      await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2', [JSON.stringify(options.metadata), sha256(key)]);
    }
    return key;
  };

  /** A chat call through the gateway with the openai client ("secret words here"), returning its call id. */
  const chatCallId = async (extra: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'secret words here' }], ...extra };
    const { response } = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers }).withResponse();
    return response.headers.get('x-litellm-call-id') ?? '';
  };

  return {
    get upstream() { return upstream; },
    get langfuse() { return langfuse; },
    get teamLangfuse() { return teamLangfuse; },
    get stack() { return stack; },
    get client() { return client; },
    generation, trace, keyWithTeam, chatCallId,
  };
}
