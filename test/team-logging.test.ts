/**
 * LiteLLM's team-based logging end to end, as the gateway follows it: a team's callback settings add to the
 * config's callbacks, never take from them (LiteLLM's get_combined_callback_list). `/team/{team_id}/callback`
 * sends the team's keys' Langfuse events to its own project, while the config's OpenTelemetry spans go on;
 * `/disable_logging` (or `/team/update` writing empty lists) clears the team's own callbacks only, so its
 * keys' calls reach the config's default project and the collector again.
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '../worker/auth/authenticate.ts';
import type { KeyPolicy } from '../worker/auth/key-policy.ts';
import { configSchema } from '../worker/config/schema.ts';
import { langfuseDestination } from '../worker/telemetry/langfuse/logging-settings.ts';
import { otelOn } from '../worker/telemetry/otel/enabled.ts';
import { TEAM_SECRET, useTeamLoggingStack } from './support/team-logging-stack.ts';

const t = useTeamLoggingStack();
const { call, ok, audits, users, callWith, generation, span, spanOf, inProject, settled, teamMetadata, langfuseVars } = t;

/** The config's callbacks got the call: the default Langfuse project and the collector, never the team's project. */
async function expectConfigLogged(ids: string[]): Promise<void> {
  for (const id of ids) {
    await generation(t.fakes.langfuse, id);
    await spanOf(id);
    expect(inProject(t.fakes.teamLangfuse, id)).toBe(false);
  }
}

describe('POST /team/{team_id}/callback', () => {
  it("sends the team's keys' Langfuse events to its own project from the next call on, the config's spans kept; answers as LiteLLM does", async () => {
    const team = await t.newTeam('tl-own');
    await expectConfigLogged([await callWith(team.key)]);

    const added = await ok(`/team/${team.id}/callback`, { callback_name: 'langfuse', callback_vars: langfuseVars(TEAM_SECRET) }, users.alice);
    expect(added).toMatchObject({
      status: 'success',
      data: {
        team_id: team.id, team_alias: `Team ${team.id}`,
        metadata: { callback_settings: { success_callback: ['langfuse'], failure_callback: ['langfuse'], callback_vars: langfuseVars('...0001') } },
      },
    });
    expect(JSON.stringify(added)).not.toContain(TEAM_SECRET);
    expect((await teamMetadata(team.id)).callback_settings.callback_vars.langfuse_secret_key).toBe(TEAM_SECRET);
    const [audit] = (await audits(team.id)).slice(-1);
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_TeamTable', updated_values: { metadata: { callback_settings: { callback_vars: { langfuse_secret_key: '[redacted]' } } } } });
    expect(JSON.stringify(audit)).not.toContain(TEAM_SECRET);

    const succeeded = await callWith(team.key);
    const failed = await callWith(team.key, true);
    expect(await generation(t.fakes.teamLangfuse, succeeded)).toMatchObject({ name: `litellm:${team.id}-key` });
    expect(await generation(t.fakes.teamLangfuse, failed)).toMatchObject({ level: 'ERROR' });
    expect(t.fakes.teamLangfuse.requests.every((r) => r.authorized)).toBe(true);
    // The team's project instead of the default one (never both); the config's spans for both calls.
    for (const id of [succeeded, failed]) await spanOf(id);
    const other = await t.newTeam('tl-own-other');
    await settled(t.fakes.langfuse, await callWith(other.key));
    for (const id of [succeeded, failed]) expect(inProject(t.fakes.langfuse, id)).toBe(false);

    // Listed again for an event it already has: LiteLLM's 400.
    const again = await call(`/team/${team.id}/callback`, { callback_name: 'langfuse', callback_type: 'success' }, users.alice);
    expect(again).toMatchObject({ status: 400, body: { error: { param: 'callback_name', message: `callback_name = langfuse already exists in success_callback, for team_id = ${team.id}. Existing success_callback = ["langfuse"]` } } });
  });
});

describe('POST /team/{team_id}/disable_logging', () => {
  it("clears the team's own callbacks: its keys' calls reach the config's default project and collector again", async () => {
    const team = await t.newTeam('tl-off');
    await ok(`/team/${team.id}/callback`, { callback_name: 'langfuse', callback_vars: langfuseVars(TEAM_SECRET) }, users.alice);
    const res = await ok(`/team/${team.id}/disable_logging`, undefined, users.alice, { method: 'POST' });
    expect(res).toEqual({ status: 'success', message: `Logging disabled for team ${team.id}`, data: { team_id: team.id, success_callbacks: [], failure_callbacks: [] } });
    // The lists emptied, the variables kept (as LiteLLM keeps them).
    expect((await teamMetadata(team.id)).callback_settings).toEqual({ success_callback: [], failure_callback: [], callback_vars: langfuseVars(TEAM_SECRET) });
    const audited = await audits(team.id);
    expect(audited.slice(-1)[0]).toMatchObject({ action: 'updated' });
    await ok(`/team/${team.id}/disable_logging`, undefined, users.alice, { method: 'POST' });
    expect(await audits(team.id)).toHaveLength(audited.length);
    expect((await ok(`/team/${team.id}/callback`, undefined, users.alice)).data).toEqual({
      team_id: team.id, success_callbacks: [], failure_callbacks: [], callback_vars: langfuseVars('...0001'),
    });

    await expectConfigLogged([await callWith(team.key), await callWith(team.key, true)]);
  });

  it('takes team ids with a slash, as the callback routes do', async () => {
    const team = await t.newTeam('tl-org/slashed');
    await ok(`/team/${team.id}/callback`, { callback_name: 'langfuse' }, users.alice);
    expect((await ok(`/team/${team.id}/disable_logging`, undefined, users.alice, { method: 'POST' })).message).toBe(`Logging disabled for team ${team.id}`);
    expect((await teamMetadata(team.id)).callback_settings).toMatchObject({ success_callback: [], failure_callback: [] });
    expect((await call('/team/tl-org/no-such-team/disable_logging', {}, users.alice)).status).toBe(403);
  });
});

describe("a team admin's /team/update", () => {
  it("cannot silence the config's callbacks for the team's keys with empty lists, in callback_settings or logging", async () => {
    const team = await t.newTeam('tl-update');
    const empty = { callback_settings: { success_callback: [], failure_callback: [], callbacks: [], callback_vars: langfuseVars(TEAM_SECRET) } };
    await ok('/team/update', { team_id: team.id, metadata: empty }, users.alice);
    await expectConfigLogged([await callWith(team.key), await callWith(team.key, true)]);

    await ok('/team/update', { team_id: team.id, metadata: { logging: [] } }, users.alice);
    await expectConfigLogged([await callWith(team.key)]);
  });
});

describe("which calls a team's callback settings send, and where", () => {
  const on = configSchema.parse({ litellm_settings: { callbacks: ['langfuse', 'otel'] } });
  const off = configSchema.parse({});
  const team = (callbackSettings: unknown) => ({ id: 't', alias: null, models: [], blocked: false, organizationId: null, metadata: { callback_settings: callbackSettings }, modelAliases: {} });
  const caller = (settings: unknown, keyMetadata: Record<string, unknown> = {}): Caller => ({ kind: 'key', token: 'hash', policy: { metadata: keyMetadata, team: team(settings) } as unknown as KeyPolicy });
  const vars = { langfuse_public_key: 'pk', langfuse_secret_key: 'sk' };

  it("never turn the config's callbacks off: disabled, the team's calls go to the default project, and nowhere without the config's", () => {
    const disabled = caller({ success_callback: [], failure_callback: [], callback_vars: vars });
    const otherNames = caller({ callbacks: ['otel', 'langsmith'], callback_vars: vars });
    for (const failed of [false, true]) {
      for (const c of [disabled, otherNames]) {
        expect(langfuseDestination(on, c, failed)).toEqual({ source: 'env' });
        expect(langfuseDestination(off, c, failed)).toBeUndefined();
      }
      expect(otelOn(on, failed)).toBe(true);
      expect(otelOn(off, failed)).toBe(false);
    }
  });

  it("add Langfuse when the config's is off, and send it to the team's project when they name credentials", () => {
    const successOnly = caller({ success_callback: ['langfuse'], failure_callback: [], callback_vars: vars });
    expect(langfuseDestination(off, successOnly, false)).toEqual({ source: 'team', teamId: 't' });
    expect(langfuseDestination(off, successOnly, true)).toBeUndefined();
    expect(langfuseDestination(on, successOnly, true)).toEqual({ source: 'team', teamId: 't' });
    expect(langfuseDestination(off, caller({ callbacks: ['langfuse'] }), true)).toEqual({ source: 'env' });
    // Variables without lists (LiteLLM's older form): the team's project for the config's callback.
    expect(langfuseDestination(on, caller({ callback_vars: vars }), true)).toEqual({ source: 'team', teamId: 't' });
    // A key with logging of its own shadows its team's settings.
    expect(langfuseDestination(on, caller({ success_callback: ['langfuse'], callback_vars: vars }, { logging: [{ callback_name: 'otel' }] }), false)).toEqual({ source: 'env' });
  });
});
