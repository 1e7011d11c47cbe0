/**
 * Key and team logging settings the admin API refuses (LiteLLM's team_logging for `langsmith` and `gcs_bucket`):
 * a value the logger cannot use, a second entry beside a kept secret, a masked secret sent back with another
 * destination, a service account whose token_uri is not Google's, LangSmith or PostHog settings no API key could be
 * sent with (another base URL without a key of its own, or none while the environment has none): each a 400 that
 * changes nothing. Delivery with the settings: team-logging-langsmith-gcs.test.ts.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeGcs, startFakeGcs } from './fakes/gcs-bucket.ts';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import type { Json } from './support/admin.ts';
import { useLangsmithTeamsStack } from './support/langsmith-teams-stack.ts';

const ENV_KEY = 'lsv2_pt_env-langsmith-key-0001';
const TEAM_KEY = 'lsv2_pt_team-a-langsmith-key-0002';
const UPSTREAM_KEY = 'sk-upstream-openai-teamlog-0001';

let envLangsmith: FakeLangsmith;
let teamLangsmith: FakeLangsmith;
let gcs: FakeGcs;
// gcs_bucket is not in the config: a key's own settings turn it on for that key, as in LiteLLM.
const { admin, teamWithKey, teamMetadata } = useLangsmithTeamsStack({
  envKey: ENV_KEY, upstreamKey: UPSTREAM_KEY,
  fakes: async () => ({ team: await startFakeLangsmith({ apiKey: TEAM_KEY }), gcs: await startFakeGcs({ bucket: 'key-bucket' }) }),
  env: (f) => ({ GCS_API_BASE: f.gcs.url }),
}, (s) => ({ envLangsmith, fakes: { team: teamLangsmith, gcs } } = s));
const { call, ok } = admin;

afterEach(() => {
  expect(envLangsmith.malformed).toEqual([]);
  expect(teamLangsmith.malformed).toEqual([]);
  expect(gcs.rejected).toEqual([]);
});

const langsmithVars = (apiKey: string, project: string) => ({ langsmith_api_key: apiKey, langsmith_project: project, langsmith_base_url: teamLangsmith.url });

describe('bad key and team logging settings', () => {
  it('refuses a value the logger cannot use with a 400, changing nothing', async () => {
    await teamWithKey('tlg-bad');
    const before = await teamMetadata('tlg-bad');
    const keysBefore = await admin.count('LiteLLM_VerificationToken');
    const refused = async (path: string, body: unknown, param: string) => {
      const res = await call(path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param, code: '400' });
      expect(typeof res.body.error.message).toBe('string');
      return res.body.error.message as string;
    };
    await refused('/team/tlg-bad/callback', { callback_name: 'langsmith', callback_vars: { langsmith_api_key: 'lsv2-x-0004', langsmith_base_url: 'ftp://smith.example' } }, 'callback_vars.langsmith_base_url');
    const message = await refused('/team/tlg-bad/callback', { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'ok-bucket', gcs_path_service_account: '/var/secrets/sa-secret-0005.json' } }, 'callback_vars.gcs_path_service_account');
    expect(message).not.toContain('sa-secret-0005');
    await refused('/team/tlg-bad/callback', { callback_name: 'langsmith', callback_vars: { gcs_bucket_name: 'ok-bucket' } }, 'callback_vars.gcs_bucket_name');
    await refused('/team/update', { team_id: 'tlg-bad', metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_base_url: 'not a url' } }] } }, 'metadata.logging[0].callback_vars.langsmith_base_url');
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'Bad Bucket!' } }] } }, 'metadata.logging[0].callback_vars.gcs_bucket_name');
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: 12345 } }] } }, 'metadata.logging[0].callback_vars.langsmith_api_key');
    expect(await teamMetadata('tlg-bad')).toEqual(before);
    expect(await admin.count('LiteLLM_VerificationToken')).toBe(keysBefore);
  });

  it("keeps another callback's variables when one is added, and a masked key sent back keeps its stored secret", async () => {
    await teamWithKey('tlg-both');
    await ok('/team/tlg-both/callback', { callback_name: 'langsmith', callback_vars: langsmithVars(TEAM_KEY, 'both-project') });
    await ok('/team/tlg-both/callback', { callback_name: 'gcs_bucket', callback_type: 'success', callback_vars: { gcs_bucket_name: 'key-bucket', gcs_path_service_account: gcs.account.json } });
    const stored = (await teamMetadata('tlg-both')).callback_settings.callback_vars;
    expect(stored).toMatchObject({ langsmith_api_key: TEAM_KEY, langsmith_project: 'both-project', gcs_bucket_name: 'key-bucket' });
    // The answer's metadata posted back as shown: the stored secrets stay.
    const shown = (await ok('/team/info?team_id=tlg-both')).team_info.metadata;
    await ok('/team/update', { team_id: 'tlg-both', metadata: shown });
    expect((await teamMetadata('tlg-both')).callback_settings.callback_vars).toMatchObject({ langsmith_api_key: TEAM_KEY, gcs_path_service_account: gcs.account.json });
    // A masked key sent back with another base URL would send the stored key elsewhere: refused.
    const moved = { ...shown, callback_settings: { ...shown.callback_settings, callback_vars: { ...shown.callback_settings.callback_vars, langsmith_base_url: 'https://elsewhere.example' } } };
    const storedBefore = await teamMetadata('tlg-both');
    const res = await call('/team/update', { team_id: 'tlg-both', metadata: moved });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'metadata', message: expect.stringContaining('keeps the host it was stored for') });
    expect(await teamMetadata('tlg-both')).toEqual(storedBefore);
  });

  it("refuses a second entry of a callback beside a kept secret: the stored key never goes to another base URL or bucket", async () => {
    await teamWithKey('tlg-two');
    await ok('/team/update', { team_id: 'tlg-two', metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_api_key: TEAM_KEY } }] } });
    const before = await teamMetadata('tlg-two');
    const shown = (await ok('/team/info?team_id=tlg-two')).team_info.metadata.logging;
    expect(shown[0].callback_vars.langsmith_api_key).toBe(`...${TEAM_KEY.slice(-4)}`);
    const second = await call('/team/update', { team_id: 'tlg-two', metadata: { logging: [...shown, { callback_name: 'langsmith', callback_vars: { langsmith_base_url: 'https://evil.example' } }] } });
    expect(second.status, JSON.stringify(second.body)).toBe(400);
    expect(second.body.error).toMatchObject({ type: 'bad_request_error', param: 'metadata.logging[1].callback_name', message: expect.stringContaining('langsmith is named twice') });
    expect(await teamMetadata('tlg-two')).toEqual(before);

    // A key's settings the same way, for gcs_bucket: the stored account never writes to another bucket.
    const account = gcs.account.json;
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'key-bucket', gcs_path_service_account: account } }] } })).key as string;
    const info = await ok(`/key/info?key=${encodeURIComponent(key)}`);
    const hashed = createHash('sha256').update(key).digest('hex');
    const keyBefore = (await admin.rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE token = $1', [hashed]))[0]?.metadata;
    expect(keyBefore).toBeDefined();
    const keyed = await call('/key/update', { key, metadata: { logging: [...info.info.metadata.logging, { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'attacker-bucket' } }] } });
    expect(keyed.status, JSON.stringify(keyed.body)).toBe(400);
    expect(keyed.body.error.message).toContain('gcs_bucket is named twice');
    // Nor by moving the only entry's bucket while its account is sent back masked.
    const movedBucket = await call('/key/update', { key, metadata: { logging: [{ ...info.info.metadata.logging[0], callback_vars: { ...info.info.metadata.logging[0].callback_vars, gcs_bucket_name: 'attacker-bucket' } }] } });
    expect(movedBucket.status, JSON.stringify(movedBucket.body)).toBe(400);
    expect((await admin.rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE token = $1', [hashed]))[0]?.metadata).toEqual(keyBefore);
  });

  it("refuses settings no API key could be sent with (LangSmith's and PostHog's), keeping those the environment's key serves", async () => {
    await teamWithKey('tlg-keyless');
    const before = await teamMetadata('tlg-keyless');
    const keysBefore = await admin.count('LiteLLM_VerificationToken');
    const refused = async (path: string, body: unknown, param: string, says: string) => {
      const res = await call(path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param, message: expect.stringContaining(says) });
    };
    // A base URL elsewhere without a key of its own: the environment's LANGSMITH_API_KEY never goes there.
    const elsewhere = { langsmith_base_url: 'https://smith.elsewhere.example', langsmith_project: 'p' };
    await refused('/team/tlg-keyless/callback', { callback_name: 'langsmith', callback_vars: elsewhere }, 'callback_vars.langsmith_api_key', 'needs a langsmith_api_key of its own');
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'langsmith', callback_vars: elsewhere }] } }, 'metadata.logging[0].callback_vars.langsmith_api_key', 'needs a langsmith_api_key of its own');
    await refused('/team/update', { team_id: 'tlg-keyless', metadata: { callback_settings: { callbacks: ['langsmith'], callback_vars: elsewhere } } },
      'metadata.callback_settings.callback_vars.langsmith_api_key', 'needs a langsmith_api_key of its own');
    // PostHog's own URL (LiteLLM's default) without a posthog_api_key while this gateway has no POSTHOG_API_KEY.
    await refused('/team/tlg-keyless/callback', { callback_name: 'posthog', callback_vars: { posthog_api_url: 'https://us.i.posthog.com' } },
      'callback_vars.posthog_api_key', "the gateway's POSTHOG_API_KEY is not set");
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'posthog', callback_vars: { posthog_api_url: 'https://us.i.posthog.com/' } }] } },
      'metadata.logging[0].callback_vars.posthog_api_key', "the gateway's POSTHOG_API_KEY is not set");
    expect(await teamMetadata('tlg-keyless')).toEqual(before);
    expect(await admin.count('LiteLLM_VerificationToken')).toBe(keysBefore);
    // What delivers today stays accepted: a project of its own with the environment's key, at its URL written with a slash.
    await ok('/team/tlg-keyless/callback', { callback_name: 'langsmith', callback_vars: { langsmith_project: 'own-project', langsmith_base_url: `${envLangsmith.url}/` } });
    await ok('/key/generate', { metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { langsmith_project: 'key-project' } }] } });
    await ok('/key/generate', { metadata: { logging: [{ callback_name: 'posthog', callback_vars: { posthog_api_key: 'phc_ownProjectKey0123456789' } }] } });
  });

  it("refuses a key's or team's service account whose token_uri is not Google's, changing nothing", async () => {
    const hanging = JSON.stringify({ ...(JSON.parse(gcs.account.json) as Json), token_uri: 'https://hang.example/token' });
    const keysBefore = await admin.count('LiteLLM_VerificationToken');
    const res = await call('/key/generate', { metadata: { logging: [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'key-bucket', gcs_path_service_account: hanging } }] } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toMatchObject({ param: 'metadata.logging[0].callback_vars.gcs_path_service_account', message: expect.stringContaining('token_uri must be https://oauth2.googleapis.com/token') });
    expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY');
    expect(await admin.count('LiteLLM_VerificationToken')).toBe(keysBefore);
    await teamWithKey('tlg-token');
    const before = await teamMetadata('tlg-token');
    const team = await call('/team/tlg-token/callback', { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'key-bucket', gcs_path_service_account: hanging } });
    expect(team.status, JSON.stringify(team.body)).toBe(400);
    expect(team.body.error.param).toBe('callback_vars.gcs_path_service_account');
    expect(await teamMetadata('tlg-token')).toEqual(before);
  });
});
