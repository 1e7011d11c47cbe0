/**
 * What the key and team based LangSmith logging suites (team-logging-langsmith-gcs, -delivery, -owner-guards)
 * share: a fake OpenAI upstream, the config's own fake LangSmith (`env-project`), the suite's further fakes, and
 * workerd on the callback suites' config.yaml head with `callbacks: ["langsmith"]`; plus a call as a key, a team
 * with a key, and a LangSmith server that takes connections and never answers.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from '../fakes/langsmith.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { adminClient, type Json } from './admin.ts';
import { callbackModels } from './callback-config.ts';
import { startTestStack, type TestStack } from './stack.ts';

/** Anything a suite starts beside the stack: closed once the stack has stopped. */
export interface Closable { close(): Promise<unknown> }

export interface LangsmithTeamsStack<F extends Record<string, Closable>> {
  upstream: FakeUpstream;
  /** The config's LangSmith (LANGSMITH_API_KEY, LANGSMITH_BASE_URL, project `env-project`). */
  envLangsmith: FakeLangsmith;
  fakes: F;
  stack: TestStack;
}

export interface LangsmithTeamsOptions<F extends Record<string, Closable>> {
  /** The config's LangSmith key (LANGSMITH_API_KEY), which its fake requires. */
  envKey: string;
  /** The provider key the stack reads from FAKE_OPENAI_KEY. */
  upstreamKey: string;
  /** The suite's own fakes, started before the stack (whose environment may point at them). */
  fakes?: () => Promise<F>;
  /** More of the stack's environment, from the suite's fakes. */
  env?: (fakes: F) => Record<string, string>;
}

/**
 * Registers the calling suite's stack, beforeAll/afterAll, so the three suites do not each repeat it; `started`
 * gets the parts once they are up. Returns the admin client and the helpers that need the running stack.
 */
export function useLangsmithTeamsStack<F extends Record<string, Closable> = Record<never, Closable>>(
  options: LangsmithTeamsOptions<F>, started: (s: LangsmithTeamsStack<F>) => void,
) {
  const live: Partial<LangsmithTeamsStack<F>> = {};
  const admin = adminClient(() => live.stack!);
  beforeAll(async () => {
    live.upstream = await startFakeUpstream();
    live.envLangsmith = await startFakeLangsmith({ apiKey: options.envKey });
    live.fakes = options.fakes ? await options.fakes() : ({} as F);
    live.stack = await startTestStack({
      configYaml: `${callbackModels(live.upstream.url)}litellm_settings:\n  callbacks: ["langsmith"]\n`,
      env: {
        FAKE_OPENAI_KEY: options.upstreamKey, LANGSMITH_API_KEY: options.envKey, LANGSMITH_BASE_URL: live.envLangsmith.url, LANGSMITH_PROJECT: 'env-project',
        ...options.env?.(live.fakes),
      },
    });
    started(live as LangsmithTeamsStack<F>);
  });
  afterAll(async () => {
    await live.stack?.stop();
    await Promise.all([live.envLangsmith?.close(), ...Object.values(live.fakes ?? {}).map((f) => f.close()), live.upstream?.close()]);
  });

  /** One chat call as `key`, returning its call id (x-litellm-call-id), by which its run is found. */
  async function chatWith(key: string): Promise<string> {
    const client = new OpenAI({ baseURL: `${live.stack!.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'team logging' }] }).withResponse();
    return response.headers.get('x-litellm-call-id') ?? '';
  }

  /** Team `id` and a key of it. */
  async function teamWithKey(id: string): Promise<string> {
    await admin.ok('/team/new', { team_id: id });
    return (await admin.generate({ team_id: id })).key as string;
  }

  /** The team's metadata as stored, to show a refused change left it as it was. */
  const teamMetadata = async (id: string) => (await admin.rows('SELECT metadata FROM "LiteLLM_TeamTable" WHERE team_id = $1', [id]))[0]?.metadata as Json;

  return { admin, chatWith, teamWithKey, teamMetadata };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The run a fake LangSmith got for one call. */
export const runOf = (fake: FakeLangsmith, callId: string) => fake.runs().find((r) => r.inputs?.id === callId);
/** The batch (with its headers) that carried one call's run. */
export const batchOf = (fake: FakeLangsmith, callId: string) => fake.batches.find((b) => b.runs.some((r) => r.inputs?.id === callId));

/** A server that takes connections and never answers, as a hung LangSmith does. */
export interface HangingServer {
  url: string;
  /** The connections it holds open. */
  sockets: Set<Socket>;
  /** Drops the held connections (and any later one) and stops listening. */
  close(): Promise<void>;
}

/** Starts a HangingServer on loopback, for the suites showing one owner's hung server delays no one else much. */
export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let cut = false;
  const hang = createServer(() => undefined);
  hang.on('connection', (sock) => (cut ? sock.destroy() : sockets.add(sock)));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
    sockets,
    async close() {
      cut = true;
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => hang.close(r));
    },
  };
}
