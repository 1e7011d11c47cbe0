import Anthropic, { toFile } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './fakes/anthropic.ts';
import { adminClient } from './support/admin.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * Anthropic's Skills API through the gateway with the official @anthropic-ai/sdk (`beta.skills`): a skill is
 * made in a model group's Anthropic account, its id is the gateway's signed one for its owner, only its owner
 * reads, versions, deletes it or names it in a /v1/messages call's `container.skills`; Anthropic's prebuilt
 * skills pass as they are.
 */

let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
let stack: TestStack;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-acct-a-0001}
    model_info: {id: dep-claude}
  - model_name: claude-b
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-acct-b-0002}
    model_info: {id: dep-claude-b}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-openai-0003}
router_settings:
  num_retries: 0
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  max_request_size_mb: 1
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const admin = adminClient(() => stack);
const client = (apiKey: string, model = 'claude') => new Anthropic({ baseURL: stack.url, apiKey, maxRetries: 0, defaultHeaders: { 'x-litellm-model': model } });
const keyClient = async (user: string, extra: Record<string, unknown> = {}) => client((await admin.generate({ models: ['claude', 'claude-b'], user_id: user, ...extra })).key as string);
const apiKeyOf = (c: Anthropic) => c.apiKey as string;
const failure = (attempt: Promise<unknown>) => attempt.then(() => undefined, (e: { status?: number; error?: { error?: { message?: string; param?: string } } }) => ({ status: e.status, ...e.error?.error }));
const skillFiles = async (folder = 'report', extra = 'print(1)\n') => [
  await toFile(Buffer.from('---\nname: report\ndescription: Writes reports\n---\nWrite a report.\n'), `${folder}/SKILL.md`),
  await toFile(Buffer.from(extra), `${folder}/helper.py`),
];
const create = async (c: Anthropic, title = 'Report', files?: Awaited<ReturnType<typeof skillFiles>>) =>
  c.beta.skills.create({ display_title: title, files: files ?? await skillFiles() } as unknown as Anthropic.Beta.SkillCreateParams) as unknown as Promise<{ id: string; display_title: string; source: string }>;
const rawOf = (title: string) => [...fake.skills.values()].find((s) => s.display_title === title)!.id;
const skillRequests = () => fake.requests.filter((r) => r.path.startsWith('/v1/skills'));

/**
 * A 1.5 MB upload sent chunked (no length declared, so counted as it streams), through node:http: it reports
 * the answer even when the gateway stops reading the body early.
 */
async function tooBig(apiKey: string): Promise<number> {
  const form = new FormData();
  form.append('display_title', 'Big');
  for (const file of await skillFiles()) form.append('files[]', file);
  form.append('files[]', new File([Buffer.alloc(1_500_000, 97)], 'report/data.txt'));
  const encoded = new Response(form);
  const payload = Buffer.from(await encoded.arrayBuffer());
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${stack.url}/v1/skills`, {
      method: 'POST', headers: { 'x-api-key': apiKey, 'x-litellm-model': 'claude', 'content-type': encoded.headers.get('content-type') ?? '' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => undefined);
    req.write(payload.subarray(0, 1000));
    req.end(payload.subarray(1000));
    setTimeout(() => reject(new Error('no answer')), 30_000);
  });
}

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

  it('named in a /v1/messages call\'s container go to Anthropic as the provider\'s ids, the owner\'s alone, Anthropic\'s prebuilt ones as they are', async () => {
    const alice = await keyClient('skill-alice3');
    const erin = await keyClient('skill-erin3');
    const skill = await create(alice, 'Alice in calls');
    const raw = rawOf('Alice in calls');
    const call = (c: Anthropic, skillId: string, model = 'claude') => c.beta.messages.create({
      model, max_tokens: 100, messages: [{ role: 'user', content: 'make a report' }], betas: ['code-execution-2025-08-25', 'skills-2025-10-02'],
      container: { skills: [{ type: 'custom', skill_id: skillId, version: 'latest' }, { type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] },
    });
    const answer = await call(alice, skill.id);
    expect(answer.content).toEqual([{ type: 'text', text: 'echo: make a report' }]);
    const sent = fake.requests.find((r) => r.path === '/v1/messages')!;
    expect((sent.body as { container: unknown }).container).toEqual({ skills: [{ type: 'custom', skill_id: raw, version: 'latest' }, { type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] });
    expect(sent.headers['anthropic-beta']).toContain('skills-2025-10-02');

    const before = fake.requests.length;
    expect(await failure(call(erin, skill.id))).toMatchObject({ status: 404 });
    expect(await failure(call(alice, raw))).toMatchObject({ status: 400 });
    // A `skill_` id is a custom skill whatever its `type` says: checked as one (prebuilt ones are short names).
    const typedAnthropic = (c: Anthropic, skillId: string) => c.beta.messages.create({
      model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'make a report' }], betas: ['skills-2025-10-02'],
      container: { skills: [{ type: 'anthropic', skill_id: skillId, version: 'latest' }] },
    });
    expect(await failure(typedAnthropic(alice, raw))).toMatchObject({ status: 400, message: expect.stringContaining('container.skills.0.skill_id') });
    expect(await failure(typedAnthropic(erin, skill.id))).toMatchObject({ status: 404, message: expect.stringContaining('No such skill') });
    // Another account's group cannot run it.
    expect(await failure(call(alice, skill.id, 'claude-b'))).toMatchObject({ status: 400 });
    expect(fake.requests.length).toBe(before);
    await call(client(TEST_MASTER_KEY), raw);
    expect((fake.requests.at(-1)!.body as { container: { skills: { skill_id: string }[] } }).container.skills[0]!.skill_id).toBe(raw);
    await typedAnthropic(alice, skill.id);
    expect((fake.requests.at(-1)!.body as { container: unknown }).container).toEqual({ skills: [{ type: 'anthropic', skill_id: raw, version: 'latest' }] });
  });

  it('named in a /v1/responses call\'s container bridged to Anthropic are checked as in /v1/messages, and so is a stored container', async () => {
    const aliceKey = apiKeyOf(await keyClient('skill-alice5'));
    const erinKey = apiKeyOf(await keyClient('skill-erin5'));
    const skill = await create(client(aliceKey), 'Alice in responses');
    const raw = rawOf('Alice in responses');
    const respond = (apiKey: string, container: unknown) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 })
      .responses.create({ model: 'claude', input: 'make a report', container } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const skills = (id: string) => ({ skills: [{ type: 'custom', skill_id: id, version: 'latest' }, { type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] });
    const messageCalls = () => fake.requests.filter((r) => r.path === '/v1/messages').length;

    const before = messageCalls();
    for (const [apiKey, container, status] of [
      [aliceKey, skills(raw), 400], [erinKey, skills(skill.id), 404],
      [aliceKey, { skills: [{ type: 'anthropic', skill_id: raw }] }, 400],
      // A stored code execution container by the provider's id: no key's to name.
      [aliceKey, 'container_011CPR5CNjB747bApND2WqJ3', 400], [aliceKey, { id: 'container_011CPR5CNjB747bApND2WqJ3' }, 400],
    ] as const) {
      const refused = await respond(apiKey, container).then(() => undefined, (e: { status?: number; error?: { param?: string } }) => ({ status: e.status, ...e.error }));
      expect(refused).toMatchObject({ status, param: expect.stringMatching(/^container/) });
    }
    expect(messageCalls()).toBe(before);

    const answer = await respond(aliceKey, skills(skill.id));
    expect(answer.output_text).toBe('echo: make a report');
    const sent = fake.requests.filter((r) => r.path === '/v1/messages').at(-1)!;
    expect((sent.body as { container: unknown }).container).toEqual({ skills: [{ type: 'custom', skill_id: raw, version: 'latest' }, { type: 'anthropic', skill_id: 'xlsx', version: 'latest' }] });
    expect(JSON.stringify(answer)).not.toContain(raw);
  });

  it('refuse a bad upload, a body past max_request_size_mb, a group without Anthropic, and a key over its rate limit, making nothing', async () => {
    const alice = await keyClient('skill-alice4');
    const made = fake.skills.size;
    const noSkillMd = [await toFile(Buffer.from('x'), 'report/notes.md')];
    const refused = await failure(create(alice, 'Bad', noSkillMd));
    expect(refused).toMatchObject({ status: 400 });
    expect(refused!.message).toContain('SKILL.md file must be exactly in the top-level folder');
    expect(await tooBig(apiKeyOf(alice))).toBe(413);
    expect(await failure(create(client(TEST_MASTER_KEY, 'gpt-4o'), 'Elsewhere'))).toMatchObject({ status: 400, param: 'model' });
    const unnamed = new Anthropic({ baseURL: stack.url, apiKey: apiKeyOf(alice), maxRetries: 0 });
    expect(await failure(create(unnamed, 'Nowhere'))).toMatchObject({ status: 400, param: 'model' });
    expect(fake.skills.size).toBe(made);

    // The group named by a `model` form field (LiteLLM's): read, and kept from Anthropic.
    const byField = await unnamed.beta.skills.create({ display_title: 'By field', files: await skillFiles(), model: 'claude' } as unknown as Anthropic.Beta.SkillCreateParams);
    expect(byField.id).toMatch(/^skill_/);
    expect(skillRequests().at(-1)!.rawBody).not.toContain('name="model"');
    expect(fake.skills.get(rawOf('By field'))!.files.map((f) => f.name)).toEqual(['report/SKILL.md', 'report/helper.py']);

    const limited = await keyClient('skill-limited', { rpm_limit: 1 });
    await create(limited, 'First');
    expect(await failure(create(limited, 'Second'))).toMatchObject({ status: 429 });
    expect(fake.skills.size).toBe(made + 2);
  });
});
