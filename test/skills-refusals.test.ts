import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { postUntilAnswered } from './support/oversized-upload.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';
import { apiKeyOf, client, create, failure, fake, keyClient, rawOf, skillFiles, skillRequests, stack, useSkillsStack } from './support/skills-stack.ts';

/**
 * Skill uploads the gateway refuses, making nothing at Anthropic (skills.test.ts has the Skills API itself):
 * a bad upload, a body past max_request_size_mb, a group without Anthropic, a key over its rate limit.
 */

useSkillsStack();

/** A 1.5 MB upload sent chunked (no length declared, so counted as it streams): the gateway's answer. */
async function tooBig(apiKey: string): Promise<number> {
  const form = new FormData();
  form.append('display_title', 'Big');
  for (const file of await skillFiles()) form.append('files[]', file);
  form.append('files[]', new File([Buffer.alloc(1_500_000, 97)], 'report/data.txt'));
  const encoded = new Response(form);
  const payload = Buffer.from(await encoded.arrayBuffer());
  const headers = { 'x-api-key': apiKey, 'x-litellm-model': 'claude', 'content-type': encoded.headers.get('content-type') ?? '' };
  return (await postUntilAnswered(`${stack.url}/v1/skills`, headers, payload, { timeoutMs: 30_000 })).status;
}

describe('Skills', () => {
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

  it('answer an upload refused while the client is still sending it with the refusal, not a reset connection', async () => {
    // A skill of 900 KB streamed through (the group named in a header): refused by the key's rate limit before the
    // gateway needs its body, which is read to its end first, so the client sees the 429 (not ECONNRESET).
    const limited = await keyClient('skill-limited-big', { rpm_limit: 1 });
    await create(limited, 'Small');
    const made = fake.skills.size;
    const big = [...await skillFiles(), await toFile(Buffer.alloc(900_000, 97), 'report/data.txt')];
    expect(await failure(create(limited, 'Big', big))).toMatchObject({ status: 429 });
    expect(fake.skills.size).toBe(made);
  });
});
