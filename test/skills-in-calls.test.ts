import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { apiKeyOf, client, create, failure, fake, keyClient, rawOf, stack, useSkillsStack } from './support/skills-stack.ts';

/**
 * Skills named in calls (skills.test.ts has the Skills API itself): a /v1/messages call's `container.skills`,
 * and a /v1/responses call's container bridged to Anthropic, go as the provider's ids, the owner's alone;
 * Anthropic's prebuilt skills pass as they are.
 */

useSkillsStack();

describe('Skills', () => {
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
});
