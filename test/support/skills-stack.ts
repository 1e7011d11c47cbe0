/**
 * The stack the skills suites share (skills, skills-in-calls, skills-refusals, skills-form-limit): the fake
 * Anthropic and the gateway over it, started and stopped by the calling test file's hooks (the fake reset
 * before each test), and the Anthropic SDK helpers the suites call the gateway's `/v1/skills` with.
 */
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.ts';
import { adminClient } from './admin.ts';
import { startTestStack, type TestStack } from './stack.ts';

/** Three model groups: two Anthropic accounts (a, b) and an OpenAI one; bodies of at most 1 MB. */
export const SKILLS_CONFIG = (fakeUrl: string) => `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fakeUrl}", api_key: sk-ant-acct-a-0001}
    model_info: {id: dep-claude}
  - model_name: claude-b
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fakeUrl}", api_key: sk-ant-acct-b-0002}
    model_info: {id: dep-claude-b}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fakeUrl}/v1", api_key: sk-openai-0003}
router_settings:
  num_retries: 0
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  max_request_size_mb: 1
`;

export let fake: Awaited<ReturnType<typeof startFakeAnthropic>>;
export let stack: TestStack;

/** Starts the fake and the gateway with the config made from the fake's url (registered as the calling test file's hooks). */
export function useSkillsStack(configYaml: (fakeUrl: string) => string = SKILLS_CONFIG): void {
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    stack = await startTestStack({ configYaml: configYaml(fake.url) });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
  });
  beforeEach(() => fake.reset());
}

export const admin = adminClient(() => stack);
export const client = (apiKey: string, model = 'claude') => new Anthropic({ baseURL: stack.url, apiKey, maxRetries: 0, defaultHeaders: { 'x-litellm-model': model } });
export const keyClient = async (user: string, extra: Record<string, unknown> = {}) => client((await admin.generate({ models: ['claude', 'claude-b'], user_id: user, ...extra })).key as string);
export const apiKeyOf = (c: Anthropic) => c.apiKey as string;
export const failure = (attempt: Promise<unknown>) => attempt.then(() => undefined, (e: { status?: number; error?: { error?: { message?: string; param?: string } } }) => ({ status: e.status, ...e.error?.error }));
export const skillFiles = async (folder = 'report', extra = 'print(1)\n') => [
  await toFile(Buffer.from('---\nname: report\ndescription: Writes reports\n---\nWrite a report.\n'), `${folder}/SKILL.md`),
  await toFile(Buffer.from(extra), `${folder}/helper.py`),
];
export const create = async (c: Anthropic, title = 'Report', files?: Awaited<ReturnType<typeof skillFiles>>) =>
  c.beta.skills.create({ display_title: title, files: files ?? await skillFiles() } as unknown as Anthropic.Beta.SkillCreateParams) as unknown as Promise<{ id: string; display_title: string; source: string }>;
export const rawOf = (title: string) => [...fake.skills.values()].find((s) => s.display_title === title)!.id;
export const skillRequests = () => fake.requests.filter((r) => r.path.startsWith('/v1/skills'));
