/**
 * Key and team based logging for `langsmith`, the holes a second review found: a team admin cannot move a stored
 * LangSmith key to a host or project of their choosing through another callback's entry (nor through the project),
 * a key regenerated while its runs wait keeps them (a deleted one's are dropped), and owners' hanging servers
 * delay another team's runs by one timeout at most.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import type { Json } from './support/admin.ts';
import { eventually, seedKey } from './support/keys.ts';
import { batchOf, runOf, sleep, startHangingServer, useLangsmithTeamsStack } from './support/langsmith-teams-stack.ts';
import type { TestStack } from './support/stack.ts';

const ENV_KEY = 'lsv2_pt_env-langsmith-key-0031';
const TEAM_SECRET = 'lsv2_pt_team-secret-langsmith-0032';
const KEY_SECRET = 'lsv2_pt_key-secret-langsmith-0033';
const UPSTREAM_KEY = 'sk-upstream-openai-teamlog-0034';

let envLangsmith: FakeLangsmith;
let teamLangsmith: FakeLangsmith;
let keyLangsmith: FakeLangsmith;
let evil: FakeLangsmith;
let stack: TestStack;
const { admin, chatWith, teamMetadata } = useLangsmithTeamsStack({
  envKey: ENV_KEY, upstreamKey: UPSTREAM_KEY,
  fakes: async () => ({
    team: await startFakeLangsmith({ apiKey: TEAM_SECRET }), key: await startFakeLangsmith({ apiKey: KEY_SECRET }), evil: await startFakeLangsmith({ apiKey: 'lsv2_pt_evil-0035' }),
  }),
}, (s) => ({ envLangsmith, stack, fakes: { team: teamLangsmith, key: keyLangsmith, evil } } = s));
const { call, ok } = admin;

afterEach(() => {
  expect(teamLangsmith.malformed).toEqual([]);
  expect(keyLangsmith.malformed).toEqual([]);
});

/** A team with `admin` as its team admin, a key of the team, and that admin's own key. */
async function teamWithAdmin(id: string, adminId: string): Promise<{ key: string; teamAdmin: string }> {
  await ok('/team/new', { team_id: id, members_with_roles: [{ role: 'admin', user_id: adminId }] });
  const teamAdmin = await seedKey(stack.databaseUrl, { userId: adminId });
  return { key: (await admin.generate({ team_id: id })).key as string, teamAdmin };
}

describe("a stored LangSmith key stays with its host and project", () => {
  it("refuses another callback's variable in a langfuse entry, and never converts one into the team's langsmith settings", async () => {
    const { key, teamAdmin } = await teamWithAdmin('tog-evil', 'tog-alice');
    // (1) The proxy admin stores the team's LangSmith key.
    await ok('/team/update', { team_id: 'tog-evil', metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: TEAM_SECRET, langsmith_base_url: teamLangsmith.url } }] } });
    const before = await teamMetadata('tog-evil');
    const shown = (await ok('/team/info?team_id=tog-evil', undefined, teamAdmin)).team_info.metadata.logging;
    // (2) The team admin sends it back masked, beside a langfuse entry naming their own host (or bucket): a 400.
    for (const [field, value] of [['langsmith_base_url', evil.url], ['gcs_bucket_name', 'attacker-bucket'], ['langsmith_api_key', 'lsv2_pt_x']]) {
      const res = await call('/team/update', { team_id: 'tog-evil', metadata: { logging: [shown[0], { callback_name: 'langfuse', callback_vars: { [field!]: value } }] } }, teamAdmin);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ param: `metadata.logging[1].callback_vars.${field}`, message: expect.stringContaining('is not a variable of langfuse') });
      expect(await teamMetadata('tog-evil')).toEqual(before);
    }
    // Such an entry stored before this check: (3) /disable_logging and (4) /team/{id}/callback convert the list,
    // taking only each entry's own variables, so the key still goes to its own host only.
    await admin.rows('UPDATE "LiteLLM_TeamTable" SET metadata = $2::jsonb WHERE team_id = $1', ['tog-evil', JSON.stringify({
      logging: [...(before.logging as Json[]), { callback_name: 'langfuse', callback_vars: { langsmith_base_url: evil.url } }],
    })]);
    await ok('/team/tog-evil/disable_logging', {}, teamAdmin);
    await ok('/team/tog-evil/callback', { callback_name: 'langsmith', callback_vars: {} }, teamAdmin);
    expect((await teamMetadata('tog-evil')).callback_settings.callback_vars).toEqual({ langsmith_api_key: TEAM_SECRET, langsmith_base_url: teamLangsmith.url });
    // (5) The next call's run goes to the team's own LangSmith with its key, nothing to the other host.
    const callId = await chatWith(key);
    await eventually(async () => runOf(teamLangsmith, callId));
    expect(batchOf(teamLangsmith, callId)!.headers['x-api-key']).toBe(TEAM_SECRET);
    expect(evil.batches).toEqual([]);
    expect(evil.unauthorized).toEqual([]);
  }, 40_000);

  it('refuses a kept LangSmith key sent back with another project, changing nothing', async () => {
    const { teamAdmin } = await teamWithAdmin('tog-project', 'tog-bob');
    await ok('/team/tog-project/callback', { callback_name: 'langsmith', callback_vars: { langsmith_api_key: TEAM_SECRET, langsmith_project: 'tog-own-project' } });
    const before = await teamMetadata('tog-project');
    const shown = (await ok('/team/info?team_id=tog-project', undefined, teamAdmin)).team_info.metadata;
    expect(shown.callback_settings.callback_vars.langsmith_api_key).not.toBe(TEAM_SECRET);
    const moved = { ...shown, callback_settings: { ...shown.callback_settings, callback_vars: { ...shown.callback_settings.callback_vars, langsmith_project: 'team-b-project' } } };
    const res = await call('/team/update', { team_id: 'tog-project', metadata: moved }, teamAdmin);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'metadata', message: expect.stringContaining('keeps the host it was stored for') });
    expect(await teamMetadata('tog-project')).toEqual(before);
    // The same in a key's logging entry.
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: KEY_SECRET, langsmith_project: 'key-project' } }] } })).key as string;
    const entry = (await ok(`/key/info?key=${encodeURIComponent(key)}`)).info.metadata.logging[0];
    const keyed = await call('/key/update', { key, metadata: { logging: [{ ...entry, callback_vars: { ...entry.callback_vars, langsmith_project: 'team-b-project' } }] } });
    expect(keyed.status, JSON.stringify(keyed.body)).toBe(400);
    // The project unchanged, the mask sent back is taken.
    await ok('/key/update', { key, metadata: { logging: [entry] } });
  });
});

describe('a key regenerated or deleted while its runs wait', () => {
  const keyVars = { langsmith_api_key: KEY_SECRET, langsmith_project: 'rotated-project' };

  it("delivers a regenerated key's waiting runs with the key's settings", async () => {
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { ...keyVars, langsmith_base_url: keyLangsmith.url } }] } })).key as string;
    keyLangsmith.failNext(503, 1);
    const refusedBefore = keyLangsmith.refused.length;
    const callId = await chatWith(key);
    await eventually(async () => (keyLangsmith.refused.length > refusedBefore ? true : undefined));
    // Rotated before the retry (2 s later): the old hash is no longer a key, the new one holds the settings.
    await ok('/key/regenerate', { key });
    const run = await eventually(async () => runOf(keyLangsmith, callId), 20_000);
    expect(run).toMatchObject({ session_name: 'rotated-project' });
    expect(batchOf(keyLangsmith, callId)!.headers['x-api-key']).toBe(KEY_SECRET);
  }, 40_000);

  it("drops a deleted key's waiting runs", async () => {
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { ...keyVars, langsmith_base_url: keyLangsmith.url } }] } })).key as string;
    const refusedBefore = keyLangsmith.refused.length;
    keyLangsmith.failNext(503, 1);
    const callId = await chatWith(key);
    await eventually(async () => (keyLangsmith.refused.length > refusedBefore ? true : undefined));
    await ok('/key/delete', { keys: [key] });
    await sleep(8000);
    expect(runOf(keyLangsmith, callId)).toBeUndefined();
    expect(runOf(envLangsmith, callId)).toBeUndefined();
    expect(keyLangsmith.refused.length).toBe(refusedBefore + 1);
  }, 40_000);
});

describe("owners' hanging servers", () => {
  it("delay another team's runs by about one timeout, not one per hanging owner", async () => {
    const hang = await startHangingServer();
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, async (_, i) => (await admin.generate({
        metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: `lsv2_pt_hang-${i}-0036`, langsmith_base_url: hang.url } }] },
      })).key as string));
      const { key: teamKey } = await teamWithAdmin('tog-patient', 'tog-carol');
      await ok('/team/tog-patient/callback', { callback_name: 'langsmith', callback_vars: { langsmith_api_key: TEAM_SECRET, langsmith_base_url: teamLangsmith.url } });
      const started = Date.now();
      await Promise.all(keys.map((k) => chatWith(k)));
      const callId = await chatWith(teamKey);
      await eventually(async () => runOf(teamLangsmith, callId), 45_000);
      // One 10 s timeout of the first hanging requests; the other hanging owners' runs go straight to a retry
      // (without that, each pair of hanging owners ahead of it would cost another 10 s: about 40 s).
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(hang.sockets.size).toBeLessThanOrEqual(2);
    } finally {
      await hang.close();
    }
  }, 60_000);
});
