import { type FakeIdp, startFakeIdp } from '../fakes/jwks.ts';
import { type FakeOidc, startFakeOidc } from '../fakes/oidc-endpoints.ts';
import { type ErrorBody, JWT_GENERAL } from './jwt-stack.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What the OIDC UserInfo suites (test/jwt-issuers-userinfo*.test.ts) share: a fake IdP and a fake OIDC provider
 * whose UserInfo endpoint answers for opaque access tokens, a gateway with UserInfo on, and a raw chat call that
 * keeps the answer's headers.
 */

/**
 * The config: one free mock model (mock-gpt), JWT auth with UserInfo at `userinfoUrl`, users and teams upserted.
 * `jwtauth` adds lines under litellm_jwtauth, `general` under general_settings (each line indented by the caller).
 */
export const userinfoConfigYaml = (userinfoUrl: string, jwtauth = '', general = '') => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
${JWT_GENERAL}${general}  litellm_jwtauth:
    team_ids_jwt_field: groups
    user_id_jwt_field: sub
    user_id_upsert: true
    team_id_upsert: true
    oidc_userinfo_enabled: true
    oidc_userinfo_endpoint: ${userinfoUrl}
${jwtauth}`;

export interface UserinfoStack { idp: FakeIdp; oidc: FakeOidc; stack: TestStack }

/** Starts the IdP (one RS256 key, `kid`), the OIDC provider on its keys, and the gateway on `config(oidc, idp)`. */
export async function startUserinfoStack(kid: string, config: (oidc: FakeOidc, idp: FakeIdp) => string): Promise<UserinfoStack> {
  const idp = await startFakeIdp({ keys: [{ kid, alg: 'RS256' }] });
  const oidc = await startFakeOidc({ jwksUrl: idp.jwksUrl });
  const stack = await startTestStack({ configYaml: config(oidc, idp) });
  return { idp, oidc, stack };
}

/** Stops what startUserinfoStack started (any part that did start). */
export async function stopUserinfoStack(s: Partial<UserinfoStack>): Promise<void> {
  await s.stack?.stop();
  await s.oidc?.close();
  await s.idp?.close();
}

export interface Answer { status: number; retryAfter: string | null; error: ErrorBody | undefined }

/** One chat call with a raw fetch and any headers, to read the answer's retry-after as well as its error. */
export async function rawChat(on: TestStack, headers: Record<string, string>, path = '/v1/chat/completions'): Promise<Answer> {
  const res = await fetch(`${on.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
  });
  const body = await res.json() as { error?: ErrorBody };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), error: body.error };
}
