import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startStack } from '../../scripts/lib/stack.ts';
import { type Claims, type FakeIdp, startFakeIdp } from '../fakes/jwks.ts';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { chatAs, JWT_GENERAL, type Outcome } from './jwt-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './stack.ts';

/**
 * What the JWT → virtual key mapping suites share: a fake IdP, a fake OpenAI upstream on loopback (two model
 * groups on it, priced), and a gateway whose JWTs map their `client_id` claim to keys, else fall back to (or are
 * refused instead of) the `team_id` / `sub` mapping. The fallback gateway names the claim by LiteLLM's current
 * setting (`virtual_key_claim_field`), the reject one by its older name (`jwt_client_id_field`). Emails must be of
 * my-co.com, and /v1/embeddings is an admin-only route.
 */

export const PROVIDER_KEY = 'sk-provider-secret-0001';

export type UnregisteredBehavior = 'fallback_team_mapping' | 'reject' | 'auto_register';

/** `extra`: more `litellm_jwtauth` lines, indented four spaces (a line at two spaces is a `general_settings` one). */
export const mappingConfigYaml = (upstream: FakeUpstream, behavior: UnregisteredBehavior, extra = '') => `
model_list:
  - model_name: gpt-mapped
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}/v1", api_key: ${PROVIDER_KEY}, input_cost_per_token: 0.01, output_cost_per_token: 0.01}
  - model_name: gpt-other
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: ${PROVIDER_KEY}, input_cost_per_token: 0.01, output_cost_per_token: 0.01}
${JWT_GENERAL}  admin_only_routes: [/v1/embeddings]
  litellm_jwtauth:
    team_id_jwt_field: team_id
    user_id_jwt_field: sub
    user_email_jwt_field: email
    user_allowed_email_domain: my-co.com
    ${behavior === 'reject' ? 'jwt_client_id_field' : 'virtual_key_claim_field'}: client_id
    unregistered_jwt_client_behavior: ${behavior}
${extra}`;

/** The auto_register suites' settings beside the shared ones: a token's list of teams, and its end user. */
export const AUTO_EXTRA = '    team_ids_jwt_field: groups\n    end_user_id_jwt_field: customer\n';

export let idp: FakeIdp;
export let upstream: FakeUpstream;
export let stack: TestStack;

/** Starts the suite's IdP, upstream and stack (registered as the calling file's beforeAll/afterAll). */
export function useMappingStack(behavior: UnregisteredBehavior, extra = ''): void {
  beforeAll(async () => {
    [idp, upstream] = await Promise.all([startFakeIdp(), startFakeUpstream()]);
    stack = await startTestStack({ configYaml: mappingConfigYaml(upstream, behavior, extra), env: { JWT_PUBLIC_KEY_URL: idp.jwksUrl } });
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([idp?.close(), upstream?.close()]);
  });
}

const now = () => Math.floor(Date.now() / 1000);
/** A token the suite's IdP signs, valid for five minutes. */
export const jwt = (claims: Claims) => idp.sign({ iat: now(), exp: now() + 300, ...claims });

/** One chat call with the official client (as a JWT or a key) on the suite's stack; a refusal comes back as its status and error body. */
export const chat = (credential: string, model = 'gpt-mapped'): Promise<Outcome> => chatAs(stack, credential, model);

/** Polls `send` until its status is `status` (a mapping change is seen within 5 s), returning that outcome. */
export async function untilStatus(send: () => Promise<Outcome>, status: number, timeoutMs = 9_000): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  let last: Outcome;
  do {
    last = await send();
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < deadline);
  return last;
}

/** A second gateway (its own workerd, so its own isolates) on the suite's database and IdP. */
export async function startSecondGateway(yaml: string): Promise<{ stack: TestStack; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-stack-'));
  const configFile = join(dataDir, 'config.yaml');
  writeFileSync(configFile, yaml);
  const second = await startStack({
    configFile, dataDir, port: 0, databaseUrl: stack.db.url,
    env: { LITELLM_MASTER_KEY: TEST_MASTER_KEY, JWT_PUBLIC_KEY_URL: idp.jwksUrl },
    runtimeOnlyEnv: { TOLLGATE_TEST_MODE: '1' }, logLevel: 'error',
  });
  return { stack: { ...second, db: stack.db, dataDir }, stop: async () => { await second.stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}
