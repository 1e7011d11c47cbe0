/**
 * Key and team based logging for `langsmith` (LiteLLM's team_logging), its delivery beside the config's: keys'
 * and teams' own destinations never delay the config's, a team whose settings are gone by the time its runs are
 * posted has them dropped once (not retried with an alert each time), and /key/health tests the config's
 * LangSmith for a key whose entry names it without variables.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import { eventually } from './support/keys.ts';
import { runOf, sleep, startHangingServer, useLangsmithTeamsStack } from './support/langsmith-teams-stack.ts';
import type { TestStack } from './support/stack.ts';

const ENV_KEY = 'lsv2_pt_env-langsmith-key-0011';
const UPSTREAM_KEY = 'sk-upstream-openai-teamlog-0012';

let envLangsmith: FakeLangsmith;
let stack: TestStack;
const { admin, chatWith, teamWithKey } = useLangsmithTeamsStack({ envKey: ENV_KEY, upstreamKey: UPSTREAM_KEY }, (s) => ({ envLangsmith, stack } = s));
const { ok } = admin;

afterEach(() => {
  expect(envLangsmith.malformed).toEqual([]);
});

describe("keys' and teams' own destinations beside the config's", () => {
  // First: the hung keys' runs below are retried, and counted as langsmith failures too.
  it('drops, once, the runs of a team whose settings no longer name langsmith by the time they are posted', async () => {
    const down = await startFakeLangsmith({ apiKey: 'lsv2_pt_down-team-0010' });
    try {
      down.failNext(503, 1000);
      const key = await teamWithKey('tlg-gone');
      await ok('/team/tlg-gone/callback', { callback_name: 'langsmith', callback_vars: { langsmith_api_key: 'lsv2_pt_down-team-0010', langsmith_base_url: down.url } });
      const failuresBefore = await langsmithFailures();
      await chatWith(key);
      await eventually(async () => (down.refused.length > 0 ? true : undefined));
      // Retried in 2 s: by then the team's logging is off, which no retry mends.
      await ok('/team/tlg-gone/disable_logging', {});
      await eventually(async () => ((await langsmithFailures()) >= failuresBefore + 2 ? true : undefined));
      // The next retry would come 30 s later: it never does, nor another failure counted.
      await sleep(35_000);
      expect(await langsmithFailures()).toBe(failuresBefore + 2);
      expect(down.refused).toHaveLength(1);
    } finally {
      await down.close();
    }
  }, 70_000);

  it("delivers the config's runs at once while many keys' LangSmith servers hang", async () => {
    const hang = await startHangingServer();
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, async (_, i) => (await admin.generate({
        metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: `lsv2_pt_hang-${i}-0009`, langsmith_base_url: hang.url } }] },
      })).key as string));
      const plain = (await admin.generate({})).key as string;
      const calls = await Promise.all([...keys.map((k) => chatWith(k)), chatWith(plain)]);
      const started = Date.now();
      await eventually(async () => runOf(envLangsmith, calls[calls.length - 1]!));
      // Well within the 10 s a hung request holds its connection.
      expect(Date.now() - started).toBeLessThan(6000);
      expect(hang.sockets.size).toBeGreaterThan(0);
      expect(hang.sockets.size).toBeLessThanOrEqual(2);
    } finally {
      await hang.close();
    }
  });
});

describe('/key/health', () => {
  it("tests the config's LangSmith for a key whose entry names langsmith without variables", async () => {
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'langsmith' }] } })).key as string;
    const before = envLangsmith.batches.length;
    const health = await ok('/key/health', {}, key);
    expect(health).toMatchObject({ key: 'healthy', logging_callbacks: { callbacks: ['langsmith'], status: 'healthy' } });
    expect(envLangsmith.batches.length).toBe(before + 1);
    expect(envLangsmith.batches.at(-1)!.headers['x-api-key']).toBe(ENV_KEY);
  });
});

/** litellm_callback_logging_failures_metric for langsmith, as /metrics shows it. */
async function langsmithFailures(): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  return Number(/^litellm_callback_logging_failures_metric_total\{callback_name="langsmith"\} ([\d.]+)/m.exec(text)?.[1] ?? 0);
}
