import { describe, expect, it } from 'vitest';
import { LANGSMITH_KEYED, ownerEnvOf, POSTHOG_KEYED, takesEnvKey, tokenUriProblem } from './logger-owners.ts';

// What a key's or team's own settings make of the admin Worker's environment: the proxy's own LangSmith key and
// GCS service account never go to a destination the key or team chose.
const ENV = {
  LANGSMITH_API_KEY: 'lsv2_env-key-0001', LANGSMITH_BASE_URL: 'https://smith.internal', LANGSMITH_PROJECT: 'env-project', LANGSMITH_TENANT_ID: 'tenant-1',
  GCS_BUCKET_NAME: 'env-bucket/logs', GCS_PATH_SERVICE_ACCOUNT: '{"env":"account"}', GCS_API_BASE: 'https://gcs.internal', TEAM_LS_KEY: 'lsv2_team-from-env-0002',
};
const settings = (vars: Record<string, string>) => ({ success: true, failure: true, vars });

describe('ownerEnvOf', () => {
  it("sends arize spans with the owner's own space and key only, never mixed with the environment's", () => {
    const arizeEnv = { ARIZE_API_KEY: 'arize-env-0001', ARIZE_SPACE_KEY: 'env-space', ARIZE_HTTP_ENDPOINT: 'https://otlp.internal/v1', ARIZE_PROJECT_NAME: 'p' };
    const own = ownerEnvOf('arize', settings({ arize_api_key: 'arize-own-0002', arize_space_key: 'own-space' }), arizeEnv, 'team');
    expect(own).toMatchObject({ ARIZE_API_KEY: 'arize-own-0002', ARIZE_SPACE_ID: 'own-space', ARIZE_HTTP_ENDPOINT: arizeEnv.ARIZE_HTTP_ENDPOINT, ARIZE_PROJECT_NAME: 'p' });
    expect(own).not.toHaveProperty('ARIZE_SPACE_KEY');
    // arize_space_key wins over arize_space_id, as LiteLLM reads them (the id set first, the key overwriting it).
    expect(ownerEnvOf('arize', settings({ arize_api_key: 'k', arize_space_id: 'id', arize_space_key: 'key' }), arizeEnv, 'key')).toMatchObject({ ARIZE_SPACE_ID: 'key' });
    for (const half of [{ arize_space_id: 'tenant-space' }, { arize_api_key: 'arize-own-0003' }] as Record<string, string>[]) {
      const refused = ownerEnvOf('arize', settings(half), arizeEnv, 'key');
      expect(refused).toEqual({ error: expect.stringContaining('need both arize_api_key and arize_space_id') });
      expect(JSON.stringify(refused)).not.toContain(arizeEnv.ARIZE_API_KEY);
    }
  });

  it("uses a team's own LangSmith key, project and base URL, without the environment's tenant", () => {
    const env = ownerEnvOf('langsmith', settings({ langsmith_api_key: 'lsv2_own-0003', langsmith_project: 'p', langsmith_base_url: 'https://smith.team' }), ENV, 'team');
    expect(env).toMatchObject({ LANGSMITH_API_KEY: 'lsv2_own-0003', LANGSMITH_PROJECT: 'p', LANGSMITH_BASE_URL: 'https://smith.team' });
    expect(env).not.toHaveProperty('LANGSMITH_TENANT_ID');
  });

  it("sends the environment's LangSmith key only to the environment's base URL", () => {
    expect(ownerEnvOf('langsmith', settings({ langsmith_project: 'own-project' }), ENV, 'key'))
      .toMatchObject({ LANGSMITH_API_KEY: ENV.LANGSMITH_API_KEY, LANGSMITH_PROJECT: 'own-project', LANGSMITH_BASE_URL: ENV.LANGSMITH_BASE_URL });
    const elsewhere = ownerEnvOf('langsmith', settings({ langsmith_base_url: 'https://attacker.example' }), ENV, 'key');
    expect(elsewhere).toEqual({ error: expect.stringContaining('no langsmith_api_key of its own') });
    expect(JSON.stringify(elsewhere)).not.toContain(ENV.LANGSMITH_API_KEY);
  });

  it('reads an os.environ/ value from the environment, and writes only to the own bucket with the own account', () => {
    expect(ownerEnvOf('langsmith', settings({ langsmith_api_key: 'os.environ/TEAM_LS_KEY' }), ENV, 'team')).toMatchObject({ LANGSMITH_API_KEY: ENV.TEAM_LS_KEY });
    expect(ownerEnvOf('gcs_bucket', settings({ gcs_bucket_name: 'team-bucket', gcs_path_service_account: '{"own":1}' }), ENV, 'team'))
      .toMatchObject({ GCS_BUCKET_NAME: 'team-bucket', GCS_PATH_SERVICE_ACCOUNT: '{"own":1}', GCS_API_BASE: ENV.GCS_API_BASE });
    expect(ownerEnvOf('gcs_bucket', settings({ gcs_bucket_name: 'team-bucket' }), ENV, 'team')).toEqual({ error: expect.stringContaining('no gcs_path_service_account of its own') });
    expect(ownerEnvOf('gcs_bucket', settings({ gcs_bucket_name: 'env-bucket/logs/' }), ENV, 'team')).toMatchObject({ GCS_PATH_SERVICE_ACCOUNT: ENV.GCS_PATH_SERVICE_ACCOUNT });
  });

  it("gives the environment's service account only to exactly the environment's bucket and folder", () => {
    // Another folder of the env's bucket (maybe another team's), or the bucket's root, outside the configured folder.
    for (const bucket of ['env-bucket', 'env-bucket/team-a', 'env-bucket/logs/team-a', 'env-bucket/logsx']) {
      const made = ownerEnvOf('gcs_bucket', settings({ gcs_bucket_name: bucket }), ENV, 'team');
      expect(made, bucket).toEqual({ error: expect.stringContaining('no gcs_path_service_account of its own') });
      expect(JSON.stringify(made)).not.toContain('account"}');
    }
  });

  it("gives the environment's LangSmith key only to exactly the environment's base URL, path included", () => {
    const env = { ...ENV, LANGSMITH_BASE_URL: 'https://gw.corp/langsmith' };
    for (const base of ['https://gw.corp/other', 'https://gw.corp/', 'https://gw.corp/langsmith/sub']) {
      expect(ownerEnvOf('langsmith', settings({ langsmith_base_url: base }), env, 'key'), base).toEqual({ error: expect.stringContaining('no langsmith_api_key of its own') });
    }
    expect(ownerEnvOf('langsmith', settings({ langsmith_base_url: 'https://gw.corp/langsmith/' }), env, 'key')).toMatchObject({ LANGSMITH_API_KEY: ENV.LANGSMITH_API_KEY });
  });

  it("refuses a key's or team's service account whose token_uri is not Google's (or on GCS_API_BASE)", () => {
    const account = (tokenUri?: string) => JSON.stringify({ client_email: 'a@b.iam', private_key: 'k', ...(tokenUri ? { token_uri: tokenUri } : {}) });
    expect(tokenUriProblem(account(), ENV)).toBeUndefined();
    expect(tokenUriProblem(account('https://oauth2.googleapis.com/token'), ENV)).toBeUndefined();
    expect(tokenUriProblem(account('https://gcs.internal/token'), ENV)).toBeUndefined();
    expect(tokenUriProblem(account('https://hang.example/token'), ENV)).toContain('token_uri must be https://oauth2.googleapis.com/token');
    expect(ownerEnvOf('gcs_bucket', settings({ gcs_bucket_name: 'b1', gcs_path_service_account: account('http://127.0.0.1:9/token') }), ENV, 'team'))
      .toEqual({ error: expect.stringContaining('token_uri must be') });
  });

  it("sends the environment's PostHog key only to the environment's URL; a team's own key and URL otherwise", () => {
    const env = { POSTHOG_API_KEY: 'phc_env-key-0001', POSTHOG_API_URL: 'https://ph.internal/', TEAM_PH_KEY: 'phc_team-from-env-0002' };
    expect(ownerEnvOf('posthog', settings({ posthog_api_key: 'phc_own-0003', posthog_api_url: 'https://ph.team' }), env, 'team'))
      .toMatchObject({ POSTHOG_API_KEY: 'phc_own-0003', POSTHOG_API_URL: 'https://ph.team' });
    // Its own key without a URL goes to the environment's host, as LiteLLM reads the URL from POSTHOG_API_URL.
    expect(ownerEnvOf('posthog', settings({ posthog_api_key: 'os.environ/TEAM_PH_KEY' }), env, 'key'))
      .toMatchObject({ POSTHOG_API_KEY: env.TEAM_PH_KEY, POSTHOG_API_URL: env.POSTHOG_API_URL });
    expect(ownerEnvOf('posthog', settings({ posthog_api_url: 'https://ph.internal' }), env, 'key')).toMatchObject({ POSTHOG_API_KEY: env.POSTHOG_API_KEY });
    for (const url of ['https://attacker.example', 'https://ph.internal/other']) {
      const refused = ownerEnvOf('posthog', settings({ posthog_api_url: url }), env, 'team');
      expect(refused, url).toEqual({ error: expect.stringContaining('no posthog_api_key of its own for its posthog_api_url') });
      expect(JSON.stringify(refused)).not.toContain(env.POSTHOG_API_KEY);
    }
    // LiteLLM's default URL is the environment's when POSTHOG_API_URL is unset.
    expect(ownerEnvOf('posthog', settings({ posthog_api_url: 'https://us.i.posthog.com' }), { POSTHOG_API_KEY: 'phc_env-key-0001' }, 'key'))
      .toMatchObject({ POSTHOG_API_KEY: 'phc_env-key-0001' });
  });

  it("takes a URL for the environment's only when it is the same origin and path: case and a default port aside, never a trailing dot or a path under it", () => {
    const env = { POSTHOG_API_KEY: 'phc_env-key-0001', POSTHOG_API_URL: 'https://PH.example.com/ingest/', LANGSMITH_API_KEY: 'lsv2_env-0004', LANGSMITH_BASE_URL: 'https://ls.example.com' };
    for (const url of ['https://ph.example.com/ingest', 'HTTPS://Ph.Example.COM:443/ingest//', 'https://ph.example.com/ingest?x=1#y']) {
      expect(takesEnvKey(url, env, POSTHOG_KEYED), url).toBe(true);
      expect(ownerEnvOf('posthog', settings({ posthog_api_url: url }), env, 'team'), url).toMatchObject({ POSTHOG_API_KEY: env.POSTHOG_API_KEY });
    }
    for (const url of ['https://ph.example.com./ingest', 'https://ph.example.com/ingest/other', 'https://ph.example.com/ingestion', 'https://ph.example.com', 'http://ph.example.com/ingest', 'https://ph.example.com:8443/ingest', 'not a url']) {
      expect(takesEnvKey(url, env, POSTHOG_KEYED), url).toBe(false);
      expect(ownerEnvOf('posthog', settings({ posthog_api_url: url }), env, 'team'), url).toEqual({ error: expect.stringContaining('no posthog_api_key of its own for its posthog_api_url') });
    }
    // Without POSTHOG_API_URL the environment's is PostHog's US host (the save-time check's rule too).
    expect([takesEnvKey('https://US.i.posthog.com/', {}, POSTHOG_KEYED), takesEnvKey('https://eu.i.posthog.com', {}, POSTHOG_KEYED)]).toEqual([true, false]);
    // LangSmith's environment key follows the same rule (one helper).
    expect(ownerEnvOf('langsmith', settings({ langsmith_base_url: 'https://LS.example.com:443/' }), env, 'team')).toMatchObject({ LANGSMITH_API_KEY: env.LANGSMITH_API_KEY });
    expect(ownerEnvOf('langsmith', settings({ langsmith_base_url: 'https://ls.example.com./' }), env, 'team')).toEqual({ error: expect.stringContaining('no langsmith_api_key of its own for its langsmith_base_url') });
  });

  it("takes a URL with credentials in it for another destination: its owner's events are held, never dropped nor sent with the environment's key", () => {
    const env = { POSTHOG_API_KEY: 'phc_env-key-0001', POSTHOG_API_URL: 'https://ph.example.com', LANGSMITH_API_KEY: 'lsv2_env-0004', LANGSMITH_BASE_URL: 'https://ls.example.com' };
    for (const url of ['https://user:pw@ph.example.com', 'https://user@ph.example.com/', 'https://:pw@ph.example.com']) {
      expect(takesEnvKey(url, env, POSTHOG_KEYED), url).toBe(false);
      const held = ownerEnvOf('posthog', settings({ posthog_api_url: url }), env, 'team');
      expect(held, url).toEqual({ error: expect.stringContaining('no posthog_api_key of its own for its posthog_api_url') });
      expect(JSON.stringify(held)).not.toContain(env.POSTHOG_API_KEY);
    }
    expect(takesEnvKey('https://me:pw@ls.example.com', env, LANGSMITH_KEYED)).toBe(false);
  });

  it("holds an owner's events whose os.environ/ value is not set, rather than send the environment's key or URL in its place", () => {
    const env = { POSTHOG_API_KEY: 'phc_env-key-0001', POSTHOG_API_URL: 'https://ph.internal', LANGSMITH_API_KEY: 'lsv2_env-0004', LANGSMITH_BASE_URL: 'https://ls.internal' };
    const cases: [string, Record<string, string>][] = [
      ['posthog', { posthog_api_key: 'os.environ/UNSET_PH_KEY', posthog_api_url: 'https://ph.internal' }],
      ['posthog', { posthog_api_key: 'os.environ/UNSET_PH_KEY' }],
      ['posthog', { posthog_api_key: 'phc_own-0003', posthog_api_url: 'os.environ/UNSET_PH_URL' }],
      ['langsmith', { langsmith_api_key: 'os.environ/UNSET_LS_KEY' }],
      ['langsmith', { langsmith_project: 'os.environ/UNSET_LS_PROJECT' }],
    ];
    for (const [name, vars] of cases) {
      const held = ownerEnvOf(name, settings(vars), env, 'key');
      expect(held, JSON.stringify(vars)).toEqual({ error: expect.stringMatching(/^its \w+ settings name os\.environ\/UNSET_\w+, which is not set/) });
      expect(held).not.toHaveProperty('drop');
    }
  });

  it('makes nothing of settings that no longer name the logger: their payloads are dropped, never sent to the config', () => {
    expect(ownerEnvOf('langsmith', undefined, ENV, 'key')).toEqual({ error: 'the key no longer names langsmith settings', drop: true });
    expect(ownerEnvOf('langsmith', settings({}), ENV, 'team')).toEqual({ error: 'the team no longer names langsmith settings', drop: true });
  });
});
