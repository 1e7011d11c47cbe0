/**
 * A team whose `callback_settings` hold variables but no callback lists (`/team/update` may store that), with
 * `langsmith` on in config.yaml: read as every callback's team settings are (worker/telemetry/owner-logging-settings.ts),
 * the team's calls go to the team's own LangSmith, as they go to its own Langfuse project (LiteLLM unpacks a team's
 * `callback_vars` into each of its calls); emptied lists (what /disable_logging leaves) send them to the config's.
 */
import { describe, expect, it } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import { eventually } from './support/keys.ts';
import { batchOf, runOf, sleep, useLangsmithTeamsStack } from './support/langsmith-teams-stack.ts';

const ENV_KEY = 'lsv2_pt_env-langsmith-key-0041';
const TEAM_SECRET = 'lsv2_pt_team-secret-langsmith-0042';

let envLangsmith: FakeLangsmith;
let teamLangsmith: FakeLangsmith;
const { admin, chatWith } = useLangsmithTeamsStack(
  { envKey: ENV_KEY, upstreamKey: 'sk-upstream-openai-varsonly-0043', fakes: async () => ({ teamLangsmith: await startFakeLangsmith({ apiKey: TEAM_SECRET }) }) },
  (s) => ({ envLangsmith, fakes: { teamLangsmith } } = s),
);
const { ok } = admin;

describe('a team whose callback_settings hold variables but no callback lists', () => {
  it("sends its calls to the team's own LangSmith when config.yaml turns langsmith on, never also to the config's", async () => {
    await ok('/team/new', { team_id: 'vars-only' });
    await ok('/team/update', { team_id: 'vars-only', metadata: { callback_settings: { callback_vars: { langsmith_api_key: TEAM_SECRET, langsmith_base_url: teamLangsmith.url, langsmith_project: 'vars-only-project' } } } });
    const key = (await admin.generate({ team_id: 'vars-only' })).key as string;
    const callId = await chatWith(key);
    const run = await eventually(async () => runOf(teamLangsmith, callId));
    expect(run).toMatchObject({ session_name: 'vars-only-project' });
    expect(batchOf(teamLangsmith, callId)!.headers['x-api-key']).toBe(TEAM_SECRET);
    // Emptied lists (what /disable_logging leaves, variables kept) send the team's next call to the config's.
    await ok('/team/vars-only/disable_logging', {});
    await sleep(1500);
    const laterId = await chatWith(key);
    await eventually(async () => runOf(envLangsmith, laterId));
    expect(batchOf(envLangsmith, laterId)!.headers['x-api-key']).toBe(ENV_KEY);
    expect(runOf(envLangsmith, callId)).toBeUndefined();
    expect(runOf(teamLangsmith, laterId)).toBeUndefined();
    expect(teamLangsmith.malformed).toEqual([]);
  }, 40_000);
});
