import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { apiKeyOf, client, create, failure, fake, keyClient, rawOf, skillFiles, skillRequests, stack, useSkillsStack } from './support/skills-stack.ts';

/**
 * Anthropic's Skills API through the gateway with the official @anthropic-ai/sdk (`beta.skills`): a skill is
 * made in a model group's Anthropic account, its id is the gateway's signed one for its owner, only its owner
 * reads, versions or deletes it; Anthropic's prebuilt skills pass as they are. Its use in calls is in
 * skills-in-calls.test.ts, refused uploads in skills-refusals.test.ts.
 */

useSkillsStack();

describe('Skills', () => {
  it('are made in the group\'s Anthropic account, and read, versioned and deleted by their owner through the gateway\'s id', async () => {
    const alice = await keyClient('skill-alice');
    const skill = await create(alice, 'Alice report');
    const raw = rawOf('Alice report');
    expect(skill).toMatchObject({ type: 'skill', display_title: 'Alice report', source: 'custom' });
    expect(Buffer.from(skill.id.slice('skill_'.length), 'base64url').toString()).toMatch(new RegExp(`^litellm:${raw};model,claude;model_id,dep-claude;owner,user:skill-alice;sig,`));
    const sent = skillRequests()[0]!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/skills' });
    expect(sent.headers).toMatchObject({ 'x-api-key': 'sk-ant-acct-a-0001', 'anthropic-version': '2023-06-01' });
    expect(sent.headers['anthropic-beta']).toContain('skills-2025-10-02');
    expect(sent.rawBody).toContain('filename="report/SKILL.md"');
    expect(sent.rawBody).not.toContain(apiKeyOf(alice));
    expect(fake.skills.get(raw)!.files.map((f) => f.name)).toEqual(['report/SKILL.md', 'report/helper.py']);

    expect(await alice.beta.skills.retrieve(skill.id)).toMatchObject({ id: skill.id, display_title: 'Alice report' });
    const v2 = await alice.beta.skills.versions.create(skill.id, { files: await skillFiles('report', 'print(2)\n') }) as unknown as { version: string; skill_id: string };
    expect(v2.skill_id).toBe(skill.id);
    const versions = await alice.beta.skills.versions.list(skill.id);
    expect(versions.data.map((v) => (v as unknown as { skill_id: string }).skill_id)).toEqual([skill.id, skill.id]);
    expect(await alice.beta.skills.versions.retrieve(v2.version, { skill_id: skill.id })).toMatchObject({ version: v2.version, skill_id: skill.id });
    expect(await (await alice.beta.skills.versions.download(v2.version, { skill_id: skill.id })).text()).toContain('report/SKILL.md');
    expect(await alice.beta.skills.versions.delete(v2.version, { skill_id: skill.id })).toEqual({ id: v2.version, type: 'skill_version_deleted' });
    const shown = JSON.stringify([skill, v2, versions.data]);
    expect(shown).not.toContain(raw);

    // Logged as LiteLLM logs it, the provider's id as the row's request_id.
    const rows = await eventually(async () => {
      const found = await query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type = $2', [sha256(apiKeyOf(alice)), 'acreate_skill']);
      return found.length === 1 ? found : undefined;
    });
    expect(rows[0]).toMatchObject({ request_id: raw, model_group: 'claude', model_id: 'dep-claude', status: 'success' });

    expect(await alice.beta.skills.delete(skill.id)).toEqual({ id: skill.id, type: 'skill_deleted' });
    expect(await failure(alice.beta.skills.retrieve(skill.id))).toMatchObject({ status: 404 });
  });

  it('are the 404 of an unknown skill to anyone but their owner; a key lists Anthropic\'s prebuilt skills only, the master key every skill', async () => {
    const alice = await keyClient('skill-alice2');
    const erin = await keyClient('skill-erin');
    const skill = await create(alice, 'Alice private');
    const raw = rawOf('Alice private');
    const before = skillRequests().length;
    for (const attempt of [
      () => erin.beta.skills.retrieve(skill.id), () => erin.beta.skills.delete(skill.id), () => erin.beta.skills.versions.list(skill.id),
      () => erin.beta.skills.versions.retrieve('1759178010641129', { skill_id: skill.id }),
      async () => erin.beta.skills.versions.create(skill.id, { files: await skillFiles() }),
      // The provider's own id is no key's to name, its owner's neither.
      () => alice.beta.skills.retrieve(raw), () => erin.beta.skills.delete(raw),
    ]) expect(await failure(attempt())).toMatchObject({ status: 404 });
    expect(skillRequests().length).toBe(before);
    expect(fake.skills.has(raw)).toBe(true);

    expect(await failure(alice.beta.skills.list())).toMatchObject({ status: 403 });
    const prebuilt = await alice.beta.skills.list({ source: 'anthropic' });
    expect(prebuilt.data.map((s) => s.id)).toEqual(['xlsx']);
    const all = await client(TEST_MASTER_KEY).beta.skills.list();
    const ids = all.data.map((s) => s.id);
    expect(ids).toContain('xlsx');
    expect(ids).not.toContain(raw);
    expect(ids.filter((id) => id.startsWith('skill_') && Buffer.from(id.slice(6), 'base64url').toString().startsWith(`litellm:${raw};`))).toHaveLength(1);
    // In LiteLLM's anthropic_routes: a key held to them makes skills, one held to openai_routes may not.
    expect(await create(await keyClient('skill-anthropic-routes', { allowed_routes: ['anthropic_routes'] }), 'Routed')).toMatchObject({ display_title: 'Routed' });
    expect(await failure(create(await keyClient('skill-openai-routes', { allowed_routes: ['openai_routes'] }), 'Not routed'))).toMatchObject({ status: 401 });
    // The master key may name a provider's id, in the account of the group it names.
    expect(await client(TEST_MASTER_KEY).beta.skills.retrieve(raw)).toMatchObject({ display_title: 'Alice private' });
  });

  it('lets a key read Anthropic\'s prebuilt skills by their own ids, as LiteLLM passes them through, never an account\'s custom skill', async () => {
    const erin = await keyClient('skill-erin-prebuilt');
    expect(await erin.beta.skills.retrieve('xlsx')).toMatchObject({ id: 'xlsx', source: 'anthropic', display_title: 'Excel' });
    const versions = await erin.beta.skills.versions.list('xlsx');
    expect(versions.data.map((v) => [v.skill_id, (v as unknown as { version: string }).version])).toEqual([['xlsx', '20251013']]);
    expect(await erin.beta.skills.versions.retrieve('20251013', { skill_id: 'xlsx' })).toMatchObject({ skill_id: 'xlsx', version: '20251013' });
    // In the named group's account, with its key.
    expect(skillRequests().map((r) => [r.method, r.path.split('?')[0], r.headers['x-api-key']])).toContainEqual(['GET', '/v1/skills/xlsx', 'sk-ant-acct-a-0001']);

    // A custom skill the provider names without `skill_`: asked for, and the 404 of an unknown skill, its words unseen.
    fake.skills.set('team-report', {
      id: 'team-report', account: 'sk-ant-acct-a-0001', display_title: 'Team secret report', files: [{ name: 'r/SKILL.md', text: 'x' }],
      versions: new Map([['1', { type: 'skill_version', id: 'skillver_1', skill_id: 'team-report', version: '1' }]]), created_at: new Date().toISOString(),
    });
    for (const attempt of [
      () => erin.beta.skills.retrieve('team-report'), () => erin.beta.skills.versions.list('team-report'),
      () => erin.beta.skills.versions.retrieve('1', { skill_id: 'team-report' }), () => erin.beta.skills.retrieve('nope'),
    ]) {
      const refused = await failure(attempt());
      expect(refused).toMatchObject({ status: 404 });
      expect(JSON.stringify(refused)).not.toContain('secret');
    }
    // Changing one stays no key's: deleting it or adding a version is the 404 of an unknown skill, before any provider.
    const before = skillRequests().length;
    expect(await failure(erin.beta.skills.delete('xlsx'))).toMatchObject({ status: 404 });
    expect(await failure(erin.beta.skills.versions.create('xlsx', { files: await skillFiles() }))).toMatchObject({ status: 404 });
    expect(skillRequests().length).toBe(before);
    // Without a model group named: a 400 saying so.
    const unnamed = new Anthropic({ baseURL: stack.url, apiKey: apiKeyOf(erin), maxRetries: 0 });
    expect(await failure(unnamed.beta.skills.retrieve('xlsx'))).toMatchObject({ status: 400, param: 'model' });
  });
});
