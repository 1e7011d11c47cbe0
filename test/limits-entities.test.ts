import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { adminClient } from './support/admin.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Budgets and limits of the entities a key brings in (its team's organization,
 * its user) and the per-model limits of a key, set up through the admin API as
 * a LiteLLM user would, and spent through real calls.
 *
 * Every call sends the prompt "hi" (1 token) with max_tokens 1 and gets "ok"
 * (1 token): it costs exactly 2 x 0.25 = 0.5, and admission reserves exactly
 * that too (prompt estimate + max_tokens). Budgets are whole multiples of 0.5,
 * so whether a call is admitted does not depend on whether the previous call's
 * settlement has reached the limiter yet (a reservation holds what the spend
 * will be); only the "Current cost" in a refusal can lag, which the tests wait
 * out.
 */

const PRICE = 'input_cost_per_token: 0.25, output_cost_per_token: 0.25';
const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", ${PRICE}}
  - model_name: gpt-x
    litellm_params: {model: mock/gpt-x, mock_response: "ok", ${PRICE}}
  - model_name: gpt-y
    litellm_params: {model: mock/gpt-y, mock_response: "ok", ${PRICE}}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

interface ErrorBody { message: string; type: string; param: string | null; code: string }
interface Outcome { status: number; cost?: string | null; error?: ErrorBody; retryAfter?: string | null }

let stack: TestStack;
const { ok: admin } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
});
afterAll(async () => stack?.stop());

/** One chat call with the official client; a refusal comes back as its status and error body. */
async function chat(key: string, model = 'mock-gpt'): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  try {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 })
      .withResponse();
    expect(data.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 1 });
    return { status: response.status, cost: response.headers.get('x-litellm-response-cost') };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) {
      return { status: err.status, error: err.error as ErrorBody, retryAfter: err.headers?.get('retry-after') };
    }
    throw err;
  }
}

/**
 * A refusal once the last admitted call's settlement has reached the limiter:
 * every refusal seen on the way must already be the same budget refusal.
 */
async function settledRefusal(send: () => Promise<Outcome>, prefix: string, settled: string): Promise<Outcome> {
  return eventually(async () => {
    const out = await send();
    expect(out.status).toBe(429);
    expect(out.error).toMatchObject({ type: 'budget_exceeded', code: '429' });
    expect(out.error?.message.startsWith(prefix), out.error?.message).toBe(true);
    return out.error?.message === settled ? out : undefined;
  }, 10_000);
}

describe('organization budgets', () => {
  it('refuse a key once its team\'s organization has spent its max_budget, naming the organization, while key and team have budget left', async () => {
    const org = await admin('/organization/new', { organization_alias: 'acme', max_budget: 1 });
    const orgId = org.organization_id as string;
    expect(org.litellm_budget_table).toMatchObject({ max_budget: 1 });
    const team = await admin('/team/new', { team_alias: 'acme-eng', organization_id: orgId, max_budget: 100 });
    expect(team.organization_id).toBe(orgId);
    const otherTeam = await admin('/team/new', { team_alias: 'acme-ops', organization_id: orgId, max_budget: 100 });
    const { key } = await admin('/key/generate', { team_id: team.team_id, max_budget: 100 });
    const { key: siblingKey } = await admin('/key/generate', { team_id: otherTeam.team_id, max_budget: 100 });
    const { key: outsiderKey } = await admin('/key/generate', { max_budget: 100 });

    expect(await chat(key)).toMatchObject({ status: 200, cost: '0.5' });
    expect(await chat(key)).toMatchObject({ status: 200, cost: '0.5' });

    const prefix = `Budget has been exceeded! Organization=${orgId} Current cost: `;
    // Refusals are reported in LiteLLM's order (key, team, org): naming the organization means key and team admitted.
    const refused = await settledRefusal(() => chat(key), prefix, `${prefix}1, Max budget: 1`);
    expect(refused.error?.param).toBeNull();
    // The organization's budget is shared: a key of another of its teams is refused too.
    expect((await chat(siblingKey)).error?.message).toBe(`${prefix}1, Max budget: 1`);
    // A key outside the organization is not affected.
    expect(await chat(outsiderKey)).toMatchObject({ status: 200 });
  });
});

describe('user budgets', () => {
  it('refuse a personal key once its user has spent the user\'s max_budget, naming the user, across the user\'s keys', async () => {
    const user = await admin('/user/new', { user_id: 'budget-user', max_budget: 1 });
    expect(user).toMatchObject({ user_id: 'budget-user', max_budget: 1 });
    const first = user.key as string;
    const { key: second } = await admin('/key/generate', { user_id: 'budget-user', max_budget: 100 });

    expect(await chat(first)).toMatchObject({ status: 200, cost: '0.5' });
    expect(await chat(second)).toMatchObject({ status: 200, cost: '0.5' });

    const prefix = 'Budget has been exceeded! User=budget-user Current cost: ';
    await settledRefusal(() => chat(second), prefix, `${prefix}1, Max budget: 1`);
    expect((await chat(first)).error?.message).toBe(`${prefix}1, Max budget: 1`);
  });

  it('do not hold a key in a team to its user\'s personal budget (LiteLLM: the team\'s budget applies instead)', async () => {
    await admin('/user/new', { user_id: 'broke-user', max_budget: 0.5, auto_create_key: false });
    const { key: personal } = await admin('/key/generate', { user_id: 'broke-user' });
    const team = await admin('/team/new', { team_alias: 'broke-user-team', max_budget: 100 });
    const { key: teamKey } = await admin('/key/generate', { user_id: 'broke-user', team_id: team.team_id });

    expect(await chat(personal)).toMatchObject({ status: 200 });
    const prefix = 'Budget has been exceeded! User=broke-user Current cost: ';
    await settledRefusal(() => chat(personal), prefix, `${prefix}0.5, Max budget: 0.5`);
    expect(await chat(teamKey)).toMatchObject({ status: 200 });
  });
});

describe('per-model limits of a key', () => {
  it('model_rpm_limit admits exactly the limit for that model in the minute, and leaves other models alone', async () => {
    const generated = await admin('/key/generate', { model_rpm_limit: { 'gpt-x': 2 } });
    expect(generated.model_rpm_limit).toEqual({ 'gpt-x': 2 });
    const key = generated.key as string;
    const hash = sha256(key);
    expect(generated.token).toBe(hash);

    expect((await chat(key, 'gpt-x')).status).toBe(200);
    expect((await chat(key, 'gpt-x')).status).toBe(200);
    const third = await chat(key, 'gpt-x');
    expect(third.status).toBe(429);
    expect(third.error).toMatchObject({ type: 'rate_limit_error', code: '429' });
    // LiteLLM's v3 limiter message for the model_per_key descriptor ({key hash}:{model}).
    expect(third.error?.message).toMatch(new RegExp(
      `^Rate limit exceeded for model_per_key: ${hash}:gpt-x\\. Limit type: requests\\. Current limit: 2, Remaining: 0\\. Limit resets at: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`));
    expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(1);

    // The same key, other models: no per-model limit applies to them.
    for (let i = 0; i < 3; i++) expect((await chat(key, 'gpt-y')).status).toBe(200);
    expect((await chat(key, 'gpt-x')).status).toBe(429);
  });

  it('a request another entity refuses does not use up the key\'s model_rpm_limit or model_tpm_limit (the admission is undone)', async () => {
    await admin('/user/new', { user_id: 'rpm-user', max_budget: 0.5, auto_create_key: false });
    // Each call reserves 2 tokens (and uses 2): 3 tokens a minute leave room for one call after the first.
    const { key } = await admin('/key/generate', { user_id: 'rpm-user', model_rpm_limit: { 'gpt-x': 2 }, model_tpm_limit: { 'gpt-x': 3 } });

    expect(await chat(key, 'gpt-x')).toMatchObject({ status: 200, cost: '0.5' });
    // The user's budget is spent: the key admits each of these, the user refuses, the key's admission is undone.
    const prefix = 'Budget has been exceeded! User=rpm-user Current cost: ';
    await settledRefusal(() => chat(key, 'gpt-x'), prefix, `${prefix}0.5, Max budget: 0.5`);
    for (let i = 0; i < 3; i++) expect((await chat(key, 'gpt-x')).error?.message).toBe(`${prefix}0.5, Max budget: 0.5`);

    await admin('/user/update', { user_id: 'rpm-user', max_budget: 100 });
    // One of the two requests of the minute is left, not zero.
    expect((await chat(key, 'gpt-x')).status).toBe(200);
    const over = await chat(key, 'gpt-x');
    expect(over.status).toBe(429);
    expect(over.error?.message).toContain('Rate limit exceeded for model_per_key: ');
  });

  it('model_max_budget refuses a model once the key has spent its budget on it, and leaves other models alone', async () => {
    const generated = await admin('/key/generate', {
      key_alias: 'per-model-budget', model_max_budget: { 'gpt-x': { budget_limit: 1, time_period: '1d' } },
    });
    expect(generated.model_max_budget).toEqual({ 'gpt-x': { budget_limit: 1, time_period: '1d' } });
    const key = generated.key as string;

    expect(await chat(key, 'gpt-x')).toMatchObject({ status: 200, cost: '0.5' });
    expect(await chat(key, 'gpt-x')).toMatchObject({ status: 200, cost: '0.5' });

    // In LiteLLM's words for a model budget (its model_max_budget limiter), which clients match on.
    const refusal = async () => {
      const out = await chat(key, 'gpt-x');
      expect(out.status).toBe(429);
      expect(out.error).toMatchObject({ type: 'budget_exceeded', code: '429' });
      expect(out.error?.message).toBe(`LiteLLM Virtual Key: ${sha256(key)}, key_alias: per-model-budget, exceeded budget for model=gpt-x`);
      return out;
    };
    const refused = await refusal();
    // The window is the model budget's time_period (1d, aligned at midnight UTC).
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(24 * 3600);

    // Spend on other models is not held to gpt-x's budget, and does not count toward it.
    for (let i = 0; i < 3; i++) expect(await chat(key, 'gpt-y')).toMatchObject({ status: 200, cost: '0.5' });
    await refusal();
  });
});
