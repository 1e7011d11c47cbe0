import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/admin.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's tag management (`/tag/new`, `/tag/update`, `/tag/info`,
 * `/tag/list`, `/tag/delete`) and its tag budgets (docs: proxy/tag_budgets):
 * a tag whose budget is spent refuses the calls carrying it. Each call here
 * costs far more than the tiny budget, so one call spends it. Its own stack:
 * the gateway reads which tags have budgets when it first sees a tagged call.
 */

let stack: TestStack;
const { call: admin, ok, generate } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
    model_info: {id: mock-deployment}
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-default, mock_response: "pong", input_cost_per_token: 0.001, output_cost_per_token: 0.001, tags: [default]}
    model_info: {id: default-deployment}
  - model_name: free-gpt
    litellm_params: {model: mock/free, mock_response: "free", input_cost_per_token: 0, output_cost_per_token: 0, tags: [default]}
  - model_name: paid-gpt
    litellm_params: {model: mock/paid, mock_response: "paid", input_cost_per_token: 0.001, output_cost_per_token: 0.001, tags: [default, paid]}
router_settings:
  enable_tag_filtering: true
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => stack?.stop());

/** A call carrying `tags`; its status and the deployment that served it or, when refused, the error's message. */
async function chat(tags: string[] | undefined, model = 'mock-gpt'): Promise<{ status: number; message?: string; id?: string }> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...(tags ? { metadata: { tags } } as never : {}) }).withResponse();
    return { status: 200, id: response.headers.get('x-litellm-model-id') ?? '' };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { status: err.status ?? 0, message: err.message };
  }
}

describe('tag management', () => {
  it('creates a tag with a budget, and refuses a second one by that name', async () => {
    const created = await ok('/tag/new', { name: 'team:search', description: 'Search team', models: ['mock-deployment'], max_budget: 0.000000001, budget_duration: '1d' });
    expect(created.message).toBe('Tag team:search created successfully');
    expect(created.tag).toMatchObject({ name: 'team:search', description: 'Search team', models: ['mock-deployment'], model_info: { 'mock-deployment': 'mock-gpt' }, created_by: 'default_user_id' });
    const again = await admin('/tag/new', { name: 'team:search' });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toBe('Tag team:search already exists');
    const bad = await admin('/tag/new', { name: 'x', max_budget: -1 });
    expect(bad.status).toBe(400);
    // A tag keys carry (below), created before the gateway first reads the tags.
    await ok('/tag/new', { name: 'cost-center:42', max_budget: 0.000000001, budget_duration: '1d' });
    // A tag a deployment carries (paid-gpt's), with a budget of its own.
    await ok('/tag/new', { name: 'paid', max_budget: 0.000000001, budget_duration: '1d' });
    // A tag given to a model group through its models (LiteLLM adds it to those deployments).
    await ok('/tag/new', { name: 'via-models', models: ['paid-gpt'] });
  });

  it('shows tags with their budgets on /tag/info, and names the ones it does not know', async () => {
    const info = await ok('/tag/info', { names: ['team:search'] });
    expect(info['team:search'].litellm_budget_table).toMatchObject({ max_budget: 0.000000001, budget_duration: '1d' });
    const missing = await admin('/tag/info', { names: ['team:search', 'nope'] });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("Tags not found: ['nope']");
  });

  it('holds the calls carrying a budgeted tag to its budget, the master key\'s too, and only those', async () => {
    expect(await chat(['team:search'])).toMatchObject({ status: 200 });
    const refused = await chat(['team:search', 'other']);
    expect(refused.status).toBe(429);
    expect(refused.message).toMatch(/crossed budget: Exceeded budget for tag='team:search', tag_spend=[\d.e-]+, tag_budget_limit=1e-9$/);
    expect(await chat(['other'])).toMatchObject({ status: 200 });
    expect(await chat(undefined)).toMatchObject({ status: 200 });
    // The served call's spend reaches the tag's row, as /tag/info shows it (the refused one spent nothing).
    const spent = await eventually(async () => {
      const { spend } = (await ok('/tag/info', { names: ['team:search'] }))['team:search'] as { spend: number };
      return spend > 0 ? spend : undefined;
    });
    const row = await eventually(async () => (await query<{ spend: number }>(stack.db.url,
      `SELECT spend FROM "LiteLLM_SpendLogs" WHERE request_tags ? 'team:search' AND status = 'success'`))[0]);
    expect(spent).toBeCloseTo(row.spend, 12);
  });

  it('applies a raised budget to the very next call', async () => {
    const updated = await ok('/tag/update', { name: 'team:search', max_budget: 100 });
    expect(updated.message).toBe('Tag team:search updated successfully');
    expect(await chat(['team:search'])).toMatchObject({ status: 200 });
    expect((await ok('/tag/info', { names: ['team:search'] }))['team:search'].litellm_budget_table.max_budget).toBe(100);
  });

  it('sends the calls carrying a tag to the models it names, with tag-based routing on (LiteLLM tags those deployments)', async () => {
    // mock-deployment has no tags of its own: /tag/new's models gave it team:search.
    expect(await chat(['team:search'])).toEqual({ status: 200, id: 'mock-deployment' });
    expect(await chat(['other'])).toEqual({ status: 200, id: 'default-deployment' });
    expect(await chat(undefined)).toEqual({ status: 200, id: 'default-deployment' });
  });

  it('counts a key\'s tags as its calls\' own: against their budgets, and in the spend-log row with the serving deployment\'s', async () => {
    const { key } = await generate({ tags: ['cost-center:42'] });
    const keyed = async (model = 'mock-gpt') => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      return { status: res.status, body: await res.json() as { error?: { message: string } } };
    };
    expect((await keyed()).status).toBe(200);
    const refused = await keyed();
    expect(refused.status).toBe(429);
    expect(refused.body.error?.message).toMatch(/crossed budget: Exceeded budget for tag='cost-center:42'/);
    const row = await eventually(async () => (await query<{ request_tags: string[] }>(stack.db.url,
      'SELECT request_tags FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = $2', [sha256(key), 'success']))[0]);
    // The key's tag routed the call to the default deployment (tag-based routing is on), whose tag it carries too.
    expect(row.request_tags).toEqual(['cost-center:42', 'default']);
    // The refused call's row carries the call's tags, no deployment's.
    const refusedRow = await eventually(async () => (await query<{ request_tags: string[] }>(stack.db.url,
      'SELECT request_tags FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND status = $2', [sha256(key), 'failure']))[0]);
    expect(refusedRow.request_tags).toEqual(['cost-center:42']);
    // A free model is held to no budget, as LiteLLM skips budgets for zero-cost models.
    expect((await keyed('free-gpt')).status).toBe(200);
  });

  it('holds a call to the budget of a tag its deployment carries, and passes the deployment over once it is spent', async () => {
    expect(await chat(undefined, 'paid-gpt')).toMatchObject({ status: 200 });
    const refused = await chat(undefined, 'paid-gpt');
    expect(refused.status).toBe(429);
    expect(refused.message).toMatch(/crossed budget: Exceeded budget for tag='paid'/);
    // The served call's row carries the deployment's tags, those its tags' models gave it too.
    const row = await eventually(async () => (await query<{ request_tags: string[] }>(stack.db.url,
      'SELECT request_tags FROM "LiteLLM_SpendLogs" WHERE model_group = $1 AND status = $2', ['paid-gpt', 'success']))[0]);
    expect(row.request_tags).toEqual(['default', 'paid', 'via-models']);
  });

  it('lists the tags created here, then those calls only carried', async () => {
    await eventually(async () => {
      const list = await ok('/tag/list') as unknown as { name: string; description: string | null; litellm_budget_table?: { max_budget: number } }[];
      const other = list.find((t) => t.name === 'other');
      if (!other) return undefined;
      // Those created here first (by name), then the tags only calls carried.
      expect(list.slice(0, 3).map((t) => t.name)).toEqual(['cost-center:42', 'paid', 'team:search']);
      expect(list[2]).toMatchObject({ name: 'team:search', litellm_budget_table: { max_budget: 100 } });
      expect(other.description).toBe('This is just a spend tag that was passed dynamically in a request. It does not control any LLM models.');
      return true;
    });
  });

  it('lets only admins change tags, and deletes one so that its calls are no longer held', async () => {
    const key = await seedKey(stack.db.url);
    expect((await admin('/tag/new', { name: 'mine' }, key)).status).toBe(403);
    await ok('/tag/update', { name: 'team:search', max_budget: 0.000000001 });
    // A lease this isolate took under the raised budget may admit calls for up to a second more.
    await eventually(async () => ((await chat(['team:search'])).status === 429 ? true : undefined), 5_000);
    expect((await ok('/tag/delete', { name: 'team:search' })).message).toBe('Tag team:search deleted successfully');
    expect(await chat(['team:search'])).toMatchObject({ status: 200 });
    expect((await admin('/tag/delete', { name: 'team:search' })).status).toBe(404);
  });
});
