import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's tag-based routing (`router_settings.enable_tag_filtering`), as
 * its e2e suite checks it (test_team_tag_routing.py): a request's tags (its
 * own `metadata.tags`, its key's, its team's) pick the deployments tagged
 * alike; `default` deployments serve untagged requests and unmatched tags.
 * Each deployment answers with its own text.
 */

const CONFIG = `
model_list:
  - model_name: fake-openai-endpoint
    litellm_params: {model: mock/a, mock_response: "team a", tags: [teamA]}
    model_info: {id: team-a-model}
  - model_name: fake-openai-endpoint
    litellm_params: {model: mock/b, mock_response: "team b", tags: [teamB]}
    model_info: {id: team-b-model}
  - model_name: fake-openai-endpoint
    litellm_params: {model: mock/d, mock_response: "default", tags: [default]}
    model_info: {id: default-model}
  - model_name: no-default
    litellm_params: {model: mock/x, mock_response: "team a only", tags: [teamA]}
  - model_name: no-default
    litellm_params: {model: mock/y, mock_response: "untagged"}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: sk-nowhere-0001, tags: [teamC]}
router_settings:
  enable_tag_filtering: true
  num_retries: 0
  fallbacks: [{unreachable: [no-default]}]
litellm_settings:
  cache: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

let stack: TestStack;
const { ok: admin } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

let prompts = 0;

/** `times` calls, each with a prompt of its own (the cache is on) unless one is given; what served them. */
async function served(apiKey: string, options: { model?: string; tags?: string[]; prompt?: string } = {}, times = 8): Promise<{ texts: Set<string>; ids: Set<string>; cacheKeys: Set<string | null> }> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const texts = new Set<string>();
  const ids = new Set<string>();
  const cacheKeys = new Set<string | null>();
  for (let i = 0; i < times; i++) {
    const { data, response } = await client.chat.completions.create({
      model: options.model ?? 'fake-openai-endpoint', messages: [{ role: 'user', content: options.prompt ?? `hi ${++prompts}` }], ...(options.tags ? { metadata: { tags: options.tags } } as never : {}),
    }).withResponse();
    texts.add(String(data.choices[0]?.message.content));
    ids.add(response.headers.get('x-litellm-model-id') ?? '');
    cacheKeys.add(response.headers.get('x-litellm-cache-key'));
  }
  return { texts, ids, cacheKeys };
}

describe('tag-based routing', () => {
  it('sends a request tagged teamA (or teamB) only to the deployments so tagged', async () => {
    expect((await served(TEST_MASTER_KEY, { tags: ['teamA'] })).ids).toEqual(new Set(['team-a-model']));
    expect((await served(TEST_MASTER_KEY, { tags: ['teamB'] })).ids).toEqual(new Set(['team-b-model']));
    // Any one tag matching is enough (tag_filtering_match_any, on by default).
    expect((await served(TEST_MASTER_KEY, { tags: ['teamB', 'unknown'] })).ids).toEqual(new Set(['team-b-model']));
  });

  it('sends untagged requests, and tags no deployment has, to the default deployments', async () => {
    expect((await served(TEST_MASTER_KEY)).ids).toEqual(new Set(['default-model']));
    expect((await served(TEST_MASTER_KEY, { tags: ['teamC'] })).ids).toEqual(new Set(['default-model']));
  });

  it('refuses tags no deployment of a group without defaults has, and serves that group\'s untagged requests from all of it', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'no-default', messages: [{ role: 'user', content: 'hi' }], metadata: { tags: ['teamC'] } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('Not allowed to access model due to tags configuration. Passed model=no-default and tags=["teamC"]');
    expect((await served(TEST_MASTER_KEY, { model: 'no-default', tags: ['teamA'] })).texts).toEqual(new Set(['team a only']));
    // A fallback group that refuses the tags does not hide the error that sent the call there.
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'hi' }], metadata: { tags: ['teamC'] } } as never).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).not.toBe(400);
    expect((failed as InstanceType<typeof OpenAI.APIError>).message).not.toContain('tags configuration');
    expect((await served(TEST_MASTER_KEY, { model: 'no-default' }, 30)).texts).toEqual(new Set(['team a only', 'untagged']));
  });

  it('keeps cached answers apart by tags: a team is never answered from another team\'s deployment', async () => {
    expect(await served(TEST_MASTER_KEY, { tags: ['teamA'], prompt: 'shared question' }, 1)).toMatchObject({ texts: new Set(['team a']), cacheKeys: new Set([null]) });
    expect(await served(TEST_MASTER_KEY, { tags: ['teamB'], prompt: 'shared question' }, 1)).toMatchObject({ texts: new Set(['team b']), cacheKeys: new Set([null]) });
    const again = await served(TEST_MASTER_KEY, { tags: ['teamB'], prompt: 'shared question' }, 1);
    expect(again).toMatchObject({ texts: new Set(['team b']), ids: new Set(['team-b-model']) });
    expect([...again.cacheKeys][0]).toEqual(expect.any(String));
  });

  it('routes by a team\'s tags (its metadata) and a key\'s own tags, for every key of the team', async () => {
    const team = await admin('/team/new', { team_alias: 'tagged-b', metadata: { tags: ['teamB'] } });
    const { key: teamKey } = await admin('/key/generate', { team_id: team.team_id });
    expect((await served(teamKey)).ids).toEqual(new Set(['team-b-model']));
    const { key: taggedKey } = await admin('/key/generate', { tags: ['teamA'] });
    expect((await served(taggedKey)).ids).toEqual(new Set(['team-a-model']));
    // The request's own tags join its key's: either may match.
    expect((await served(taggedKey, { tags: ['teamB'] }, 30)).ids).toEqual(new Set(['team-a-model', 'team-b-model']));
  });
});
