/**
 * Team-based logging's admin API and its secrets: who may write a team's callbacks and what is refused;
 * callback secrets masked wherever a team or key is shown (the callback routes, /team/info, the team
 * lists, /key/info, /key/list), to every member; and a mask that matches nothing stored refused, so a
 * copied answer never replaces a secret (one sent back to its own place keeps it: team-logging-sent-back).
 */
import { describe, expect, it } from 'vitest';
import type { Json } from './support/admin.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { TEAM_SECRET, useTeamLoggingStack } from './support/team-logging-stack.ts';

const t = useTeamLoggingStack();
const { call, ok, count, users, teamMetadata, langfuseVars } = t;

/** Calls `path` expecting `status` (and `param`), returning the error message. */
async function refused(path: string, body: unknown, key: string, status: number, param?: string): Promise<string> {
  const res = await call(path, body, key);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (param) expect(res.body.error.param).toBe(param);
  return res.body.error.message as string;
}

/** Every secret kind a team's metadata may hold, in both places LiteLLM keeps them. */
const SECRETS = { team: TEAM_SECRET, logging: 'sk-lf-logging-secret-0002', other: 'dd-api-key-secret-0003', short: 'tiny' };
const secretMetadata = (url: string) => ({
  callback_settings: {
    success_callback: ['langfuse'], failure_callback: [],
    callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: SECRETS.team, langfuse_host: url, datadog_api_key: SECRETS.other, langfuse_secret: SECRETS.short },
  },
  logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-log', langfuse_secret_key: SECRETS.logging, gcs_project: 'proj', langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET' } }],
});
const maskedMetadata = (url: string) => ({
  callback_settings: {
    success_callback: ['langfuse'], failure_callback: [],
    callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: '...0001', langfuse_host: url, datadog_api_key: '...0003', langfuse_secret: '****' },
  },
  logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-log', langfuse_secret_key: '...0002', gcs_project: 'proj', langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET' } }],
});
const expectNoSecret = (answer: unknown) => {
  for (const secret of [SECRETS.team, SECRETS.logging, SECRETS.other]) expect(JSON.stringify(answer)).not.toContain(secret);
};

describe('POST /team/{team_id}/callback', () => {
  it('refuses, writing nothing: a plain member, os.environ/ values from a team admin, callbacks not run per team (otel), unknown variables, masks, unknown teams', async () => {
    const team = await t.newTeam('tls-refused');
    const metadataBefore = await teamMetadata(team.id);
    const auditsBefore = await count('LiteLLM_AuditLog');
    const path = `/team/${team.id}/callback`;
    expect(await refused(path, { callback_name: 'langfuse', callback_vars: {} }, users.carol, 403))
      .toBe(`Call not allowed. User not proxy admin OR team admin. route=/team/{team_id}/callback, team_id=${team.id}`);
    await refused(`/team/${team.id}/disable_logging`, {}, users.carol, 403);
    await refused(path, undefined, users.carol, 403);
    await refused(path, undefined, team.key, 403);
    expect(await refused(path, { callback_name: 'langfuse', callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') }, users.alice, 403, 'callback_vars'))
      .toBe('Only proxy admins can name os.environ/ values in metadata.logging or metadata.callback_settings');
    const served = 'it runs "langfuse" (the team\'s own Langfuse project (callback_vars), or the config\'s without them)';
    expect(await refused(path, { callback_name: 'datadog', callback_vars: {} }, users.alice, 400, 'callback_name')).toMatch(/^callback_name = datadog is not a callback Tollgate runs for a team; it runs "langfuse" .*"langsmith" .*"gcs_bucket"/);
    // The config's spans go to the deployment's collector for every call: a team can neither add nor drop them.
    expect(await refused(path, { callback_name: 'otel' }, users.alice, 400, 'callback_name')).toContain(`callback_name = otel is not a callback Tollgate runs for a team; ${served}`);
    await refused(path, { callback_name: 'otel' }, TEST_MASTER_KEY, 400, 'callback_name');
    // Another callback's variable would be stored beside Langfuse's and never used.
    await refused(path, { callback_name: 'langfuse', callback_vars: { langsmith_api_key: 'x' } }, users.alice, 400, 'callback_vars.langsmith_api_key');
    await refused(path, { callback_name: 'langfuse', callback_vars: { datadog_api_key: 'x' } }, users.alice, 422);
    await refused(path, { callback_name: 'langfuse', callback_type: 'always' }, users.alice, 422, 'callback_type');
    await refused(path, { callback_name: 'langfuse', callback_vars: langfuseVars('...0001') }, users.alice, 400, 'callback_vars.langfuse_secret_key');
    await refused(path, { callback_name: 'langfuse', callback_vars: langfuseVars('os.environ/LITELLM_MASTER_KEY') }, TEST_MASTER_KEY, 422, 'callback_vars');
    // Only a proxy admin learns that a team does not exist.
    expect(await refused('/team/no-such-team/callback', { callback_name: 'langfuse' }, TEST_MASTER_KEY, 404)).toBe('Team id = no-such-team does not exist.');
    await refused('/team/no-such-team/disable_logging', {}, TEST_MASTER_KEY, 404);
    await refused('/team/no-such-team/callback', undefined, TEST_MASTER_KEY, 404);
    await refused('/team/no-such-team/callback', { callback_name: 'langfuse' }, users.alice, 403);
    expect(await teamMetadata(team.id)).toEqual(metadataBefore);
    expect(await count('LiteLLM_AuditLog')).toBe(auditsBefore);
  });
});

describe('GET /team/{team_id}/callback', () => {
  it("shows the team's callbacks with the secret masked, an os.environ/ reference as written; to admins of the team only", async () => {
    const [own, referenced, bare] = await Promise.all([t.newTeam('tls-get-own'), t.newTeam('tls-get-ref'), t.newTeam('tls-get-bare')]);
    await ok(`/team/${own.id}/callback`, { callback_name: 'langfuse', callback_vars: langfuseVars(TEAM_SECRET) }, users.alice);
    // The master key may name the admin Worker's environment.
    const byAdmin = await ok(`/team/${referenced.id}/callback`, { callback_name: 'langfuse', callback_type: 'success', callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') });
    expect(byAdmin.data.metadata.callback_settings).toEqual({ success_callback: ['langfuse'], failure_callback: [], callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') });

    expect(await ok(`/team/${own.id}/callback`, undefined, users.alice)).toEqual({
      status: 'success',
      data: { team_id: own.id, success_callbacks: ['langfuse'], failure_callbacks: ['langfuse'], callback_vars: langfuseVars('...0001') },
    });
    expect((await ok(`/team/${referenced.id}/callback`)).data).toEqual({
      team_id: referenced.id, success_callbacks: ['langfuse'], failure_callbacks: [], callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET'),
    });
    expect((await ok(`/team/${bare.id}/callback`)).data).toEqual({ team_id: bare.id, success_callbacks: [], failure_callbacks: [], callback_vars: {} });
    expect((await call(`/team/${own.id}/callback`, undefined, own.key)).status).toBe(403);

    // A team admin's variables replace the stored ones whole: a host of theirs never pairs with the admin's secret.
    const moved = await ok(`/team/${referenced.id}/callback`, { callback_name: 'langfuse', callback_type: 'failure', callback_vars: { langfuse_host: 'http://127.0.0.1:9' } }, users.alice);
    expect(moved.data.metadata.callback_settings.callback_vars).toEqual({ langfuse_host: 'http://127.0.0.1:9' });
  });
});

describe("a team's callback secrets in /team/info, the team lists and /team/update", () => {
  it('are masked for a plain member and a team admin alike; all but the non-secret variables', async () => {
    const team = await t.newTeam('tls-info');
    const url = t.fakes.teamLangfuse.url;
    const updated = await ok('/team/update', { team_id: team.id, metadata: secretMetadata(url) });
    expect(updated.data.metadata).toEqual(maskedMetadata(url));
    expectNoSecret(updated);

    for (const key of [users.carol, users.alice, team.key]) {
      const info = await ok(`/team/info?team_id=${team.id}`, undefined, key);
      expect(info.team_info.metadata).toEqual(maskedMetadata(url));
      expectNoSecret(info);
    }
    const listed = await ok('/team/list?user_id=tl-carol', undefined, users.carol) as unknown as Json[];
    expect(listed.find((row) => row.team_id === team.id)?.metadata).toEqual(maskedMetadata(url));
    const paged = await ok(`/v2/team/list?team_id=${team.id}`, undefined, users.carol);
    expect(paged.teams[0].metadata).toEqual(maskedMetadata(url));
    expectNoSecret([listed, paged]);
    // As stored, for the gateway.
    expect(await teamMetadata(team.id)).toEqual(secretMetadata(url));
  });

  it('refuse a mask that matches nothing stored (another team\'s answer copied), writing nothing, in /team/update and /team/new', async () => {
    const [team, other] = await Promise.all([t.newTeam('tls-copied'), t.newTeam('tls-copied-other')]);
    const url = t.fakes.teamLangfuse.url;
    // No os.environ/ reference, which a team admin may not send (a 403 before any mask is looked at).
    const secrets = {
      callback_settings: { callback_vars: { ...langfuseVars(TEAM_SECRET), datadog_api_key: SECRETS.other } },
      logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-log', langfuse_secret_key: SECRETS.logging } }],
    };
    await ok('/team/update', { team_id: team.id, metadata: secrets });
    const copied = (await ok(`/team/info?team_id=${team.id}`, undefined, users.alice)).team_info.metadata as Json;
    const auditsBefore = await count('LiteLLM_AuditLog');
    // The first masked secret found is named (jsonb keeps its own key order).
    for (const key of [users.alice, TEST_MASTER_KEY]) {
      expect(await refused('/team/update', { team_id: other.id, metadata: copied }, key, 400))
        .toMatch(/^metadata\.callback_settings\.callback_vars\.(langfuse_secret_key|datadog_api_key) is a masked value; send the secret itself$/);
    }
    const loggingOnly = { logging: copied.logging };
    await refused('/team/update', { team_id: other.id, metadata: loggingOnly }, users.alice, 400, 'metadata.logging[0].callback_vars.langfuse_secret_key');
    // Not the mask of the secret stored there (`...0003`).
    await refused('/team/update', { team_id: team.id, metadata: { callback_settings: { callback_vars: { datadog_api_key: '****' } } } }, users.alice, 400, 'metadata.callback_settings.callback_vars.datadog_api_key');
    await refused('/team/new', { team_id: 'tls-copied-new', metadata: loggingOnly }, TEST_MASTER_KEY, 400, 'metadata.logging[0].callback_vars.langfuse_secret_key');
    expect(await teamMetadata(team.id)).toEqual(secrets);
    expect(await teamMetadata(other.id)).toEqual({});
    expect(await teamMetadata('tls-copied-new')).toBeUndefined();
    expect(await count('LiteLLM_AuditLog')).toBe(auditsBefore);
    // Non-secret variables as shown are fine: only masks of secrets are refused.
    await ok('/team/update', { team_id: team.id, metadata: { callback_settings: { callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_host: url } } } }, users.alice);
  });
});

describe("a key's callback secrets", () => {
  it('are masked in /key/info, /key/list and /team/info, and a mask matching nothing stored is refused', async () => {
    const team = await t.newTeam('tls-keys');
    const logging = [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-key', langfuse_secret_key: SECRETS.logging, langfuse_host: t.fakes.teamLangfuse.url } }];
    const shown = [{ callback_name: 'langfuse', callback_vars: { ...logging[0]!.callback_vars, langfuse_secret_key: '...0002' } }];
    const generated = await ok('/key/generate', { team_id: team.id, key_alias: 'tls-keys-logged', metadata: { logging } });
    expect(generated.metadata.logging).toEqual(shown);
    const info = await ok(`/key/info?key=${generated.key}`, undefined, users.alice);
    expect(info.info.metadata.logging).toEqual(shown);
    const list = await ok(`/key/list?team_id=${team.id}&return_full_object=true`, undefined, users.alice);
    expect(list.keys.find((k: Json) => k.key_alias === 'tls-keys-logged').metadata.logging).toEqual(shown);
    const teamInfo = await ok(`/team/info?team_id=${team.id}`, undefined, users.carol);
    expect(teamInfo.keys.find((k: Json) => k.key_alias === 'tls-keys-logged').metadata.logging).toEqual(shown);
    expectNoSecret([generated, info, list, teamInfo]);

    const param = 'metadata.logging[0].callback_vars.langfuse_secret_key';
    // The team's own key has no logging stored: the mask stands for nothing.
    expect(await refused('/key/update', { key: team.key, metadata: { logging: shown } }, users.alice, 400, param))
      .toBe(`${param} is a masked value; send the secret itself, or leave metadata.logging out to keep the stored settings`);
    expect(await refused('/key/generate', { team_id: team.id, metadata: { logging: shown } }, TEST_MASTER_KEY, 400, param)).toBe(`${param} is a masked value; send the secret itself`);
    const stored = await t.rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE key_alias = $1', ['tls-keys-logged']);
    expect(stored[0]?.metadata).toEqual({ logging });
  });
});
