import OpenAI from 'openai';
import { expect } from 'vitest';
import { adminClient } from './admin.ts';
import { type ErrorBody, jwtConfigYaml, type Outcome, stack, useJwtStack } from './jwt-stack.ts';
import { eventually, spendLogRow } from './keys.ts';

/**
 * The stack the suites of the claims litellm_jwtauth maps beside team and user share: end_user_id_jwt_field
 * (customer.id) and user_email_jwt_field (email) on the JWT config, a chat call naming a `user`, and the rows the
 * calls leave. Teams, users and customers are made through the admin API with the master key, as an operator would.
 *
 * Every call sends "hi" (1 token) with max_tokens 1 and gets "ok" (1 token): 2 x 0.25 = 0.5 a call, so a
 * max_budget of 1 admits exactly two calls.
 */

const LAST_JWT_LINE = '    public_key_ttl: 600\n';
const configYaml = () => {
  const base = jwtConfigYaml(true);
  expect(base).toContain(LAST_JWT_LINE);
  return base.replace(LAST_JWT_LINE, `${LAST_JWT_LINE}    end_user_id_jwt_field: customer.id\n    user_email_jwt_field: email\n`);
};

/** Starts the suite's stack (registered as the calling test file's beforeAll/afterAll). */
export const useJwtFieldsStack = (): void => useJwtStack(configYaml);

export const { ok: admin, call, rows } = adminClient(() => stack);

/** One chat call with the official client, naming `user` when given; a refusal comes back as its status and error body. */
export async function chat(token: string, user?: string, model = 'mock-gpt'): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, ...(user ? { user } : {}) }).withResponse();
    return { status: response.status, callId: response.headers.get('x-litellm-call-id') };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, error: err.error as ErrorBody };
    throw err;
  }
}

export const loggedRow = (callId: string | null | undefined) => eventually(() => spendLogRow(stack.db.url, callId ?? ''));
export const endUserSpend = async (id: string) => Number((await rows('SELECT spend FROM "LiteLLM_EndUserTable" WHERE user_id = $1', [id]))[0]?.spend ?? 0);
export const userRow = async (id: string) => (await rows('SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1', [id]))[0];
export const refusedEventually = (send: () => Promise<Outcome>) => eventually(async () => {
  const out = await send();
  return out.status === 200 ? undefined : out;
});
