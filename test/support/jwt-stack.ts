import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { type Claims, type FakeIdp, startFakeIdp } from '../fakes/jwks.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What the JWT suites share: the gateway's config (models priced 0.25 a token, LiteLLM's claim names), a stack on a
 * fake IdP with tokens it signs, and a chat call.
 */

const PRICE = 'input_cost_per_token: 0.25, output_cost_per_token: 0.25';
/** The model_list most JWT suites call: mock-gpt and gpt-x, priced 0.25 a token so spend is easy to read. */
export const JWT_MODELS = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", ${PRICE}}
  - model_name: gpt-x
    litellm_params: {model: mock/gpt-x, mock_response: "ok", ${PRICE}}
`;
/** The opening of general_settings with JWT auth on (the master key from the env), for a suite to add lines under. */
export const JWT_AUTH_ON = `general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  enable_jwt_auth: true
`;
/** JWT_AUTH_ON after litellm_settings' UTC timezone, for a suite with no litellm_settings of its own. */
export const JWT_GENERAL = `litellm_settings: {timezone: UTC}
${JWT_AUTH_ON}`;
export const jwtConfigYaml = (upsert: boolean, teamUpsert = false) => `${JWT_MODELS}${JWT_GENERAL}  litellm_jwtauth:
    admin_jwt_scope: litellm_proxy_admin
    team_id_jwt_field: client_id
    team_ids_jwt_field: groups
    user_id_jwt_field: sub
    org_id_jwt_field: org_id
    user_id_upsert: ${upsert}
    team_id_upsert: ${teamUpsert}
    team_allowed_routes: [openai_routes, info_routes]
    public_key_ttl: 600
`;

export interface ErrorBody { message: string; type: string; param: string | null; code: string }
export interface Outcome { status: number; callId?: string | null; error?: ErrorBody }

/** One chat call with the official client; a refusal comes back as its status and error body. */
export async function chatAs(on: TestStack, token: string, model = 'mock-gpt'): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${on.url}/v1`, apiKey: token, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }).withResponse();
    return { status: response.status, callId: response.headers.get('x-litellm-call-id') };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) return { status: err.status, error: err.error as ErrorBody };
    throw err;
  }
}


export let idp: FakeIdp;
export let stack: TestStack;

/** Starts the suite's stack on a fake IdP (registered as the calling test file's beforeAll/afterAll). */
export function useJwtStack(configYaml: () => string): void {
  beforeAll(async () => {
    idp = await startFakeIdp();
    stack = await startTestStack({ configYaml: configYaml(), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
  });
  afterAll(async () => {
    await stack?.stop();
    await idp?.close();
  });
}

const now = () => Math.floor(Date.now() / 1000);
/** A token the suite's IdP signs, valid for five minutes. */
export const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });
