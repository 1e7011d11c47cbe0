/**
 * The gateway with the config's Langfuse and OpenTelemetry callbacks on, for the team-based logging
 * suites (team-logging, team-logging-secrets): a fake OpenAI upstream, a fake OTLP collector, two fake
 * Langfuse projects (the default one, and a team's own), the stack, and helpers. Each test makes its own
 * team (`newTeam`), so the tests do not depend on each other's order. Registers its own
 * beforeAll/afterAll, and after each test checks that everything Langfuse and the collector got was
 * well formed.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from '../fakes/langfuse.ts';
import { attributesOf, type FakeCollector, startFakeCollector } from '../fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { adminClient, type Json } from './admin.ts';
import { eventually, seedKey } from './keys.ts';
import { startTestStack, type TestStack } from './stack.ts';

const config = (upstreamUrl: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:
  num_retries: 0
litellm_settings:
  callbacks: ["langfuse", "otel"]
`;

/** The team project's secret: at least 12 characters, so its mask is `...0001`. */
export const TEAM_SECRET = 'sk-lf-team-secret-0001';

export function useTeamLoggingStack() {
  const fakes = {} as { upstream: FakeUpstream; collector: FakeCollector; langfuse: FakeLangfuse; teamLangfuse: FakeLangfuse };
  let stack: TestStack;
  const admin = adminClient(() => stack);
  /** Keys of alice and carol, admin and plain member of every team newTeam makes. */
  const users = { alice: '', carol: '' };

  beforeAll(async () => {
    fakes.upstream = await startFakeUpstream();
    fakes.collector = await startFakeCollector();
    fakes.langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-default', secretKey: 'sk-lf-default-secret' });
    fakes.teamLangfuse = await startFakeLangfuse({ publicKey: 'pk-lf-team', secretKey: TEAM_SECRET });
    stack = await startTestStack({
      configYaml: config(fakes.upstream.url),
      env: {
        FAKE_OPENAI_KEY: 'sk-upstream-openai-0001',
        LANGFUSE_PUBLIC_KEY: fakes.langfuse.publicKey, LANGFUSE_SECRET_KEY: fakes.langfuse.secretKey, LANGFUSE_HOST: fakes.langfuse.url,
        OTEL_EXPORTER: 'otlp_http', OTEL_ENDPOINT: fakes.collector.url,
      },
      runtimeOnlyEnv: { TEAM_LANGFUSE_SECRET: TEAM_SECRET },
    });
    users.alice = await seedKey(stack.databaseUrl, { userId: 'tl-alice' });
    users.carol = await seedKey(stack.databaseUrl, { userId: 'tl-carol' });
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([fakes.upstream?.close(), fakes.collector?.close(), fakes.langfuse?.close(), fakes.teamLangfuse?.close()]);
  });
  afterEach(() => {
    expect(fakes.langfuse.invalid).toEqual([]);
    expect(fakes.teamLangfuse.invalid).toEqual([]);
    expect(fakes.collector.malformed).toEqual([]);
  });

  /** Team `id` (alias `Team <id>`), alice its admin and carol a plain member, and a key of the team aliased `<id>-key`. */
  async function newTeam(id: string): Promise<{ id: string; key: string }> {
    await admin.rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES ($1, $2,
      '[{"role":"admin","user_id":"tl-alice"},{"role":"user","user_id":"tl-carol"}]')`, [id, `Team ${id}`]);
    return { id, key: await seedKey(stack.databaseUrl, { teamId: id, alias: `${id}-key` }) };
  }

  /** One call with `key` (a failing one with `fail`), returning its call id. */
  async function callWith(key: string, fail = false): Promise<string> {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const body = { model: fail ? 'unreachable' : 'gpt-4o', messages: [{ role: 'user' as const, content: 'team logging' }] };
    if (fail) {
      const err = await client.chat.completions.create(body).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      return (err as InstanceType<typeof OpenAI.InternalServerError>).headers.get('x-litellm-call-id') ?? '';
    }
    const { response } = await client.chat.completions.create(body).withResponse();
    return response.headers.get('x-litellm-call-id') ?? '';
  }

  const generation = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.generations().find((g) => g.id === id));
  const span = (id: string) => fakes.collector.spans().find((s) => attributesOf(s)['gen_ai.response.id'] === id);
  const spanOf = (id: string) => eventually(async () => span(id));
  const inProject = (fake: FakeLangfuse, id: string) => fake.events.some((e) => e.body.id === id);
  /** Until `marker`'s generation (sent after earlier calls') reached `fake`, and a little more. */
  async function settled(fake: FakeLangfuse, marker: string): Promise<void> {
    await generation(fake, marker);
    await new Promise((r) => setTimeout(r, 1500));
  }
  const teamMetadata = async (id: string) => (await admin.rows('SELECT metadata FROM "LiteLLM_TeamTable" WHERE team_id = $1', [id]))[0]?.metadata as Json;
  const langfuseVars = (secret: string) => ({ langfuse_public_key: 'pk-lf-team', langfuse_secret_key: secret, langfuse_host: fakes.teamLangfuse.url });

  return {
    ...admin, fakes, users, stack: () => stack,
    newTeam, callWith, generation, span, spanOf, inProject, settled, teamMetadata, langfuseVars,
  };
}
