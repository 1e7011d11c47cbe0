import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { exec } from './support/pg-client.ts';
import { until, valueOf } from './support/prometheus.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's budget routing (docs: proxy/provider_budget_routing): budgets of
 * providers (`router_settings.provider_budget_config`), of deployments
 * (`litellm_params.max_budget` / `budget_duration`) and of request tags
 * (`litellm_settings.tag_budget_config`). A deployment whose provider's or
 * own budget is spent is passed over; with none left, LiteLLM's 429
 * "No deployments available - crossed budget: ...". Every call here costs
 * far more than the tiny budgets, so one call spends each.
 */

let fake: FakeUpstream;
let stack: TestStack;

const PRICES = 'input_cost_per_token: 0.001, output_cost_per_token: 0.001';

beforeAll(async () => {
  fake = await startFakeUpstream();
  const api = `api_base: "${fake.url}/v1", api_key: sk-fake-0001`;
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o, ${api}, ${PRICES}}
    model_info: {id: openai-deployment}
  - model_name: mixed
    litellm_params: {model: hosted_vllm/llama-3, ${api}, ${PRICES}}
    model_info: {id: vllm-deployment}
  - model_name: openai-only
    litellm_params: {model: openai/gpt-4o-mini, ${api}, ${PRICES}}
  - model_name: capped
    litellm_params: {model: hosted_vllm/capped, ${api}, ${PRICES}, max_budget: 0.000001, budget_duration: 1d}
    model_info: {id: capped-deployment}
  - model_name: capped
    litellm_params: {model: hosted_vllm/spare, ${api}, ${PRICES}}
    model_info: {id: spare-deployment}
  - model_name: capped-only
    litellm_params: {model: hosted_vllm/alone, ${api}, ${PRICES}, max_budget: 0.000001, budget_duration: 1d}
    model_info: {id: alone-deployment}
  - model_name: burst
    litellm_params: {model: hosted_vllm/burst, ${api}, ${PRICES}, max_budget: 0.05, budget_duration: 1d}
  - model_name: "wild/*"
    litellm_params: {model: "hosted_vllm/*", ${api}, ${PRICES}, max_budget: 0.000001, budget_duration: 1d}
    model_info: {id: wild-deployment}
  - model_name: preloaded
    litellm_params: {model: vllm/earlier, ${api}, ${PRICES}}
router_settings:
  num_retries: 0
  provider_budget_config:
    openai: {budget_limit: 0.000000000001, time_period: 1d}
    vllm: {budget_limit: 5, time_period: 1d}
litellm_settings:
  tag_budget_config:
    "product:chat-bot": {max_budget: 0.000000000001, budget_duration: 1d}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

const client = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });

/** One call; the deployment that served it (x-litellm-model-id), or the error the gateway answered. */
async function call(model: string, tags?: string[]): Promise<{ id: string } | { status: number; message: string; type: string | undefined }> {
  try {
    const { response } = await client().chat.completions.create({
      model, messages: [{ role: 'user', content: 'hello there' }], ...(tags ? { metadata: { tags } } as never : {}),
    }).withResponse();
    return { id: response.headers.get('x-litellm-model-id') ?? '' };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { status: err.status ?? 0, message: err.message, type: (err.error as { type?: string } | undefined)?.type };
  }
}

async function servedBy(model: string, times: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < times; i++) {
    const r = await call(model);
    if (!('id' in r)) throw new Error(`call ${i} to ${model} failed: ${r.status} ${r.message}`);
    ids.push(r.id);
  }
  return ids;
}

describe('provider budgets (router_settings.provider_budget_config)', () => {
  it('passes over a provider whose budget is spent, and answers 429 when no other deployment is left', async () => {
    // The group's two deployments share the load until openai's budget is spent by one call.
    const first = await servedBy('mixed', 40);
    expect(first).toContain('openai-deployment');
    const afterOpenai = first.slice(first.indexOf('openai-deployment') + 1);
    // Only the call openai served spent it: every later one goes to the other provider.
    expect(new Set([...afterOpenai, ...await servedBy('mixed', 10)])).toEqual(new Set(['vllm-deployment']));
    // A group with openai deployments only has nowhere to go.
    const refused = await call('openai-only');
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded' });
    expect((refused as { message: string }).message).toMatch(/^429 No deployments available - crossed budget: Exceeded budget for provider openai: [\d.e-]+ >= 1e-12$/);
  });

  it('counts what the spend logs already hold for the window open now', async () => {
    // Spend of the vllm provider from earlier today (before a restart): its whole budget of 5.
    await exec(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, spend, custom_llm_provider, "startTime", "endTime") VALUES ('earlier-vllm', 5, 'vllm', now(), now())`);
    const refused = await call('preloaded');
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded' });
    expect((refused as { message: string }).message).toContain('Exceeded budget for provider vllm: 5 >= 5');
  });

  it('says each provider budget\'s limit, window, spend and next reset on /provider/budgets', async () => {
    const res = await fetch(`${stack.url}/provider/budgets`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(res.status).toBe(200);
    const { providers } = await res.json() as { providers: Record<string, { budget_limit: number; time_period: string; spend: number; budget_reset_at: string }> };
    expect(Object.keys(providers).sort()).toEqual(['openai', 'vllm']);
    expect(providers.openai).toMatchObject({ budget_limit: 1e-12, time_period: '1d' });
    // The one call openai served: its prompt and answer tokens at 0.001 each.
    expect(providers.openai!.spend).toBeGreaterThan(0.001);
    expect(providers.vllm!.spend).toBe(5);
    const tomorrow = new Date();
    tomorrow.setUTCHours(24, 0, 0, 0);
    expect(providers.openai!.budget_reset_at).toBe(tomorrow.toISOString());
    // LiteLLM's gauge of what is left (negative once overspent by the call that spent it).
    await until(stack.url, ({ families }) => {
      expect(valueOf(families, 'litellm_provider_remaining_budget_metric', { api_provider: 'openai' })).toBeCloseTo(1e-12 - providers.openai!.spend, 9);
    });
  });
});

describe('deployment budgets (litellm_params.max_budget)', () => {
  it('passes over a deployment whose own budget is spent', async () => {
    const first = await servedBy('capped', 40);
    expect(first).toContain('capped-deployment');
    const after = first.slice(first.indexOf('capped-deployment') + 1);
    expect(new Set([...after, ...await servedBy('capped', 10)])).toEqual(new Set(['spare-deployment']));
  });

  it('answers 429 naming the deployment once a group\'s only deployment has spent its budget', async () => {
    expect(await call('capped-only')).toEqual({ id: 'alone-deployment' });
    const refused = await call('capped-only');
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded' });
    expect((refused as { message: string }).message).toMatch(
      /crossed budget: Exceeded budget for deployment model_name: capped-only, litellm_params\.model: hosted_vllm\/alone, model_id: alone-deployment: [\d.e-]+ >= 0\.000001$/,
    );
  });
});

describe('a wildcard deployment\'s budget', () => {
  it('is one budget for every model its calls name', async () => {
    expect(await call('wild/first')).toEqual({ id: 'wild-deployment:first' });
    const refused = await call('wild/second');
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded' });
    expect((refused as { message: string }).message).toContain('model_id: wild-deployment:');
  });
});

describe('budgets of budget routing under concurrent calls', () => {
  it('holds each call\'s estimate, so calls arriving together cannot overrun a budget', async () => {
    // Ten calls at once against a budget with room for a few: LiteLLM's after-the-fact counting would serve all ten.
    const results = await Promise.all(Array.from({ length: 10 }, async () => {
      try {
        const { response } = await client().chat.completions.create({ model: 'burst', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 5 }).withResponse();
        return Number(response.headers.get('x-litellm-response-cost'));
      } catch (err) {
        if (err instanceof OpenAI.APIError && err.status === 429) return undefined;
        throw err;
      }
    }));
    const costs = results.filter((c): c is number => c !== undefined);
    expect(costs.length).toBeGreaterThan(0);
    expect(costs.length).toBeLessThan(10);
    expect(costs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(0.05);
  });
});

describe('tag budgets (litellm_settings.tag_budget_config)', () => {
  it('refuses calls carrying a tag whose budget is spent, and only those', async () => {
    expect(await call('mixed', ['product:chat-bot'])).toMatchObject({ id: 'vllm-deployment' });
    const refused = await call('mixed', ['product:chat-bot', 'other']);
    expect(refused).toMatchObject({ status: 429, type: 'budget_exceeded' });
    expect((refused as { message: string }).message).toMatch(/crossed budget: Exceeded budget for tag='product:chat-bot', tag_spend=[\d.e-]+, tag_budget_limit=1e-12$/);
    // Untagged calls, and calls with other tags, are not held to it.
    expect(await call('mixed', ['other'])).toMatchObject({ id: 'vllm-deployment' });
    expect(await call('mixed')).toMatchObject({ id: 'vllm-deployment' });
  });
});
