/**
 * Logging settings sent back as an answer showed them (LiteLLM's UI posts /team/info's metadata back
 * with one change): a mask or an `os.environ/` value equal to what is shown for the value stored at the
 * same place keeps that value, for teams (/team/update) and keys (/key/update); a host's credentials
 * masked and kept alike; and /audit masking rows written before answers were.
 */
import { describe, expect, it } from 'vitest';
import type { Json } from './support/admin.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { TEAM_SECRET, useTeamLoggingStack } from './support/team-logging-stack.ts';

const t = useTeamLoggingStack();
const { call, ok, users, teamMetadata } = t;

const HOST = 'https://lf-user:lf-pass@langfuse.example/api?api_key=hostkey';
const SHOWN_HOST = 'https://****@langfuse.example/api?****';
const stored = {
  callback_settings: {
    success_callback: ['langfuse'], failure_callback: [],
    callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: TEAM_SECRET, langfuse_host: HOST, datadog_api_key: 'dd-api-key-secret-0003' },
  },
  logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-log', langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_secret_key: 'short' } }],
  purpose: 'before',
};

/** Calls `path` expecting `status` (and `param`), returning the error message. */
async function refused(path: string, body: unknown, key: string, status: number, param?: string): Promise<string> {
  const res = await call(path, body, key);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (param) expect(res.body.error.param).toBe(param);
  return res.body.error.message as string;
}

describe('/team/update with metadata read from /team/info', () => {
  it('refuses a secret sent back as shown with another host, or beside an entry naming another host, writing nothing', async () => {
    const team = await t.newTeam('tlsb-host-moved');
    const own = { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-own', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: 'https://lf.corp.example' } }] };
    await ok('/team/update', { team_id: team.id, metadata: own });
    const shown = (await ok(`/team/info?team_id=${team.id}`, undefined, users.alice)).team_info.metadata as Json;
    const entry = shown.logging[0];
    const attempts: Json[] = [
      // The same entry, another host.
      { ...shown, logging: [{ ...entry, callback_vars: { ...entry.callback_vars, langfuse_host: 'https://evil.example' } }] },
      // The host left out (the events would go to the default host with the team's secret).
      { ...shown, logging: [{ ...entry, callback_vars: { langfuse_public_key: 'pk-lf-own', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET' } }] },
      // An entry after it naming another host (LiteLLM's settings of one callback are merged).
      { ...shown, logging: [entry, { callback_name: 'langfuse', callback_vars: { langfuse_host: 'https://evil.example' } }] },
    ];
    for (const metadata of attempts) {
      expect(await refused('/team/update', { team_id: team.id, metadata }, users.alice, 400, 'metadata')).toContain('keeps the host it was stored for');
    }
    expect(await teamMetadata(team.id)).toEqual(own);
  });

  it('never lets another callback\'s host come to stand beside the stored secret through disable_logging and /callback', async () => {
    const team = await t.newTeam('tlsb-host-smuggled');
    const own = { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-own', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: 'https://lf.corp.example' } }] };
    await ok('/team/update', { team_id: team.id, metadata: own });
    const shown = (await ok(`/team/info?team_id=${team.id}`, undefined, users.alice)).team_info.metadata as Json;
    // Another callback's entry with a host is the team admin's to write (it sends nothing anywhere)...
    await ok('/team/update', { team_id: team.id, metadata: { ...shown, logging: [shown.logging[0], { callback_name: 'other', callback_vars: { langfuse_host: 'https://evil.example' } }] } }, users.alice);
    // ...but folding the settings into callback_settings keeps Langfuse's own host with Langfuse's secret.
    await ok(`/team/${team.id}/disable_logging`, {}, users.alice);
    await ok(`/team/${team.id}/callback`, { callback_name: 'langfuse' }, users.alice);
    const stored = await teamMetadata(team.id) as Json;
    expect(stored.callback_settings.callback_vars).toEqual(own.logging[0]!.callback_vars);
    expect(JSON.stringify(stored)).not.toContain('evil.example');
  });

  it("keeps the stored secrets, host credentials and os.environ/ reference when a team admin changes one thing", async () => {
    const team = await t.newTeam('tlsb-round-trip');
    await ok('/team/update', { team_id: team.id, metadata: stored });
    const shown = (await ok(`/team/info?team_id=${team.id}`, undefined, users.alice)).team_info.metadata as Json;
    expect(shown.callback_settings.callback_vars).toEqual({ langfuse_public_key: 'pk-lf-team', langfuse_secret_key: '...0001', langfuse_host: SHOWN_HOST, datadog_api_key: '...0003' });
    expect(shown.logging[0].callback_vars).toEqual({ langfuse_public_key: 'pk-lf-log', langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_secret_key: '****' });
    expect(JSON.stringify(shown)).not.toMatch(/lf-pass|hostkey/);

    const updated = await ok('/team/update', { team_id: team.id, metadata: { ...shown, purpose: 'after' } }, users.alice);
    expect(updated.data.metadata).toEqual({ ...shown, purpose: 'after' });
    expect(await teamMetadata(team.id)).toEqual({ ...stored, purpose: 'after' });
  });

  it('refuses a mask that matches nothing at its place, and a new or changed os.environ/ value from a team admin, writing nothing', async () => {
    const team = await t.newTeam('tlsb-refused');
    await ok('/team/update', { team_id: team.id, metadata: stored });
    const shown = (await ok(`/team/info?team_id=${team.id}`, undefined, users.alice)).team_info.metadata as Json;
    const withVars = (where: 'callback_settings' | 'logging', vars: Json) => where === 'logging'
      ? { ...shown, logging: [{ ...shown.logging[0], callback_vars: { ...shown.logging[0].callback_vars, ...vars } }] }
      : { ...shown, callback_settings: { ...shown.callback_settings, callback_vars: { ...shown.callback_settings.callback_vars, ...vars } } };
    const cases: [Json, string][] = [
      // Another variable's mask, and a masked host at a place with nothing stored.
      [withVars('callback_settings', { datadog_api_key: '...0001' }), 'metadata.callback_settings.callback_vars.datadog_api_key'],
      [withVars('logging', { langfuse_host: SHOWN_HOST }), 'metadata.logging[0].callback_vars.langfuse_host'],
      // Another callback at the entry's place: its variables are not the stored ones.
      [{ ...shown, logging: [{ ...shown.logging[0], callback_name: 'datadog', callback_vars: { langfuse_secret_key: '****' } }] }, 'metadata.logging[0].callback_vars.langfuse_secret_key'],
    ];
    for (const [metadata, param] of cases) {
      expect(await refused('/team/update', { team_id: team.id, metadata }, users.alice, 400, param)).toBe(`${param} is a masked value; send the secret itself`);
    }
    const message = 'Only proxy admins can name os.environ/ values in metadata.logging or metadata.callback_settings';
    expect(await refused('/team/update', { team_id: team.id, metadata: withVars('logging', { langfuse_secret: 'os.environ/OTHER_SECRET' }) }, users.alice, 403)).toBe(message);
    expect(await refused('/team/update', { team_id: team.id, metadata: withVars('callback_settings', { langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET' }) }, users.alice, 403)).toBe(message);
    expect(await teamMetadata(team.id)).toEqual(stored);
    // The proxy admin may move the reference; replacing metadata without the settings drops them (LiteLLM's replacement).
    await ok('/team/update', { team_id: team.id, metadata: withVars('logging', { langfuse_secret: 'os.environ/OTHER_SECRET' }) });
    expect((await teamMetadata(team.id)).logging[0].callback_vars.langfuse_secret).toBe('os.environ/OTHER_SECRET');
    await ok('/team/update', { team_id: team.id, metadata: { purpose: 'only' } }, users.alice);
    expect(await teamMetadata(team.id)).toEqual({ purpose: 'only' });
  });
});

describe('/key/update with metadata read from /key/info', () => {
  it("keeps the key's stored logging secrets when its metadata comes back with one change", async () => {
    const team = await t.newTeam('tlsb-key');
    const logging = [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-key', langfuse_secret_key: TEAM_SECRET, langfuse_host: HOST, langfuse_secret: 'os.environ/TEAM_LANGFUSE_SECRET' } }];
    const generated = await ok('/key/generate', { team_id: team.id, key_alias: 'tlsb-key-logged', metadata: { logging } });
    const shown = (await ok(`/key/info?key=${generated.key}`, undefined, users.alice)).info.metadata as Json;
    expect(shown.logging[0].callback_vars).toEqual({ ...logging[0]!.callback_vars, langfuse_secret_key: '...0001', langfuse_host: SHOWN_HOST });

    const updated = await ok('/key/update', { key: generated.key, metadata: { ...shown, purpose: 'after' } }, users.alice);
    expect(updated.metadata).toEqual({ ...shown, purpose: 'after' });
    const rows = await t.rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE key_alias = $1', ['tlsb-key-logged']);
    expect(rows[0]?.metadata).toEqual({ logging, purpose: 'after' });
    const param = 'metadata.logging[0].callback_vars.langfuse_secret_key';
    const moved = [{ ...shown.logging[0], callback_vars: { langfuse_secret_key: '...9999' } }];
    expect(await refused('/key/update', { key: generated.key, metadata: { logging: moved } }, users.alice, 400, param))
      .toBe(`${param} is a masked value; send the secret itself, or leave metadata.logging out to keep the stored settings`);
  });
});

describe('/audit', () => {
  it('masks the logging secrets of rows written before answers were masked, wherever metadata sits', async () => {
    const id = '00000000-0000-4000-8000-00000000a0d1';
    const vars = { langfuse_public_key: 'pk-lf-old', datadog_api_key: 'dd-api-key-old-0009', langfuse_host: HOST };
    const shownVars = { langfuse_public_key: 'pk-lf-old', datadog_api_key: '...0009', langfuse_host: SHOWN_HOST };
    // `after` also as rows written since: its metadata already masked, read the same.
    const before = { team_id: 'tlsb-audit', metadata: { callback_settings: { callback_vars: vars }, purpose: 'old' } };
    const after = { team_id: 'tlsb-audit', keys: [{ metadata: { logging: [{ callback_name: 'langfuse', callback_vars: vars }] } }], metadata: { callback_settings: { callback_vars: { langfuse_secret_key: '...0001' } } } };
    await t.rows(`INSERT INTO "LiteLLM_AuditLog" (id, action, table_name, object_id, before_value, updated_values)
      VALUES ($1, 'updated', 'LiteLLM_TeamTable', 'tlsb-audit', $2::json, $3::json)`, [id, JSON.stringify(before), JSON.stringify(after)]);
    const expected = {
      before_value: { team_id: 'tlsb-audit', metadata: { callback_settings: { callback_vars: shownVars }, purpose: 'old' } },
      updated_values: { ...after, keys: [{ metadata: { logging: [{ callback_name: 'langfuse', callback_vars: shownVars }] } }] },
    };
    const listed = await ok('/audit?object_id=tlsb-audit', undefined, TEST_MASTER_KEY);
    expect(listed.audit_logs).toHaveLength(1);
    expect(listed.audit_logs[0]).toMatchObject(expected);
    const one = await ok(`/audit/${id}`, undefined, TEST_MASTER_KEY);
    expect(one).toMatchObject(expected);
    expect(JSON.stringify([listed, one])).not.toMatch(/dd-api-key-old|lf-pass|hostkey/);
  });

  it('masks them in rows LiteLLM wrote, whose values are JSON text (json.dumps)', async () => {
    const id = '00000000-0000-4000-8000-00000000a0d2';
    const text = JSON.stringify({ metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_secret_key: 'sk-lf-litellm-written-0042' } }] } });
    await t.rows(`INSERT INTO "LiteLLM_AuditLog" (id, action, table_name, object_id, before_value, updated_values)
      VALUES ($1, 'updated', 'LiteLLM_VerificationToken', 'tlsb-audit-text', $2::json, $3::json)`,
    // The whole value as text, and a metadata field holding its value as text.
    [id, JSON.stringify(text), JSON.stringify({ metadata: JSON.stringify({ logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_secret_key: 'sk-lf-litellm-written-0042' } }] }) })]);
    const one = await ok(`/audit/${id}`, undefined, TEST_MASTER_KEY);
    expect(JSON.stringify(one)).not.toContain('sk-lf-litellm-written');
    expect(JSON.stringify(one)).toContain('...0042');
  });
});
