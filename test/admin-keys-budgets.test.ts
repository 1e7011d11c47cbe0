import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient } from './support/admin.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// A key's budget beyond max_budget: temp_budget_increase, free models, /key/{key}/reset_spend.

let stack: TestStack;
const { call, ok, generate, rows, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
});
afterAll(async () => stack?.stop());

describe('temp_budget_increase', () => {
  it('lets a key past its spent budget until temp_budget_expiry, then holds it to max_budget again', async () => {
    const key = (await generate({ max_budget: 1, spend: 2 })).key as string;
    const spent = await chat(key).catch((e: unknown) => e);
    expect(spent).toBeInstanceOf(OpenAI.RateLimitError);
    expect((spent as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'budget_exceeded' });

    await ok('/key/update', { key, temp_budget_increase: 5, temp_budget_expiry: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');

    await ok('/key/update', { key, temp_budget_increase: 5, temp_budget_expiry: new Date(Date.now() - 1000).toISOString() });
    await expect(chat(key)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('a spent budget does not refuse a model priced at zero (LiteLLM skips budgets for them); its rate limit still applies', async () => {
    const key = (await generate({ max_budget: 1, spend: 2, rpm_limit: 2 })).key as string;
    await expect(chat(key)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect((await chat(key, 'free-gpt')).choices[0]?.message.content).toBe('free');
    expect((await chat(key, 'free-gpt')).choices[0]?.message.content).toBe('free');
    const limited = await chat(key, 'free-gpt').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.APIError>).error).not.toMatchObject({ type: 'budget_exceeded' });
  });
});

describe('POST /key/{key}/reset_spend', () => {
  it('sets a key\'s spend to reset_to in Postgres and its limiter, within its current spend', async () => {
    const body = await generate({ max_budget: 1, spend: 2 });
    const key = body.key as string;
    await expect(chat(key)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect((await call(`/key/${key}/reset_spend`, { reset_to: 3 })).status).toBe(400);
    expect((await call(`/key/${key}/reset_spend`, { reset_to: -1 })).status).toBe(400);
    expect((await call(`/key/${key}/reset_spend`, { reset_to: 0 }, key)).status).toBe(403);
    const reset = await ok(`/key/${body.token}/reset_spend`, { reset_to: 0.5 });
    expect(reset).toMatchObject({ key_hash: body.token, spend: 0.5, previous_spend: 2, max_budget: 1 });
    expect((await rows('SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [body.token]))[0]?.spend).toBe(0.5);
    // The limiter took the new spend at once: the key has budget left again.
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    expect((await call('/key/sk-not-a-key-0000/reset_spend', { reset_to: 0 })).status).toBe(404);
  });
});

describe('POST /global/spend/reset', () => {
  it('zeroes every key\'s and team\'s spend, in Postgres and their limiters, for the master key only; spend logs stay', async () => {
    const team = await ok('/team/new', { team_alias: 'spent-team', max_budget: 1 });
    const teamId = team.team_id as string;
    await rows('UPDATE "LiteLLM_TeamTable" SET team_spend = 5 WHERE team_id = $1', [teamId]);
    const teamKey = (await generate({ team_id: teamId })).key as string;
    const spentKey = await generate({ max_budget: 1, spend: 2 });
    await ok('/user/new', { user_id: 'reset-admin', user_role: 'proxy_admin' });
    const adminKey = (await generate({ user_id: 'reset-admin' })).key as string;
    // The spend that counts against each: both keys are refused.
    await expect(chat(teamKey)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(chat(spentKey.key as string)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const logs = (await rows('SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"'))[0]?.n;

    // A proxy admin's key is not the master key; nothing changes.
    const refused = await call('/global/spend/reset', {}, adminKey);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { type: 'auth_error' } });
    expect((await rows('SELECT team_spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', [teamId]))[0]?.team_spend).toBe(5);

    expect(await ok('/global/spend/reset', {})).toEqual({ message: 'Spend for all API Keys and Teams reset successfully', status: 'success' });
    expect(await rows('SELECT token FROM "LiteLLM_VerificationToken" WHERE spend <> 0')).toEqual([]);
    expect(await rows('SELECT team_id FROM "LiteLLM_TeamTable" WHERE team_spend <> 0')).toEqual([]);
    // The limiters took it at once: both keys have budget again.
    expect((await chat(teamKey)).choices[0]?.message.content).toBe('pong');
    expect((await chat(spentKey.key as string)).choices[0]?.message.content).toBe('pong');
    expect((await rows('SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"'))[0]?.n).toBeGreaterThanOrEqual(logs as number);
    const audit = await rows('SELECT table_name, before_value FROM "LiteLLM_AuditLog" WHERE object_id = $1 ORDER BY table_name', ['*']);
    expect(audit).toEqual([
      { table_name: 'LiteLLM_TeamTable', before_value: { entities: 1, spend: 5 } },
      { table_name: 'LiteLLM_VerificationToken', before_value: { entities: expect.any(Number), spend: expect.any(Number) } },
    ]);
  });
});
