/**
 * Which `litellm_params` fields and headers are secret, and what of the
 * params may be shown: the rules both the gateway and the admin Worker apply.
 */
import { isSealed } from './db-models.ts';

const CREDENTIAL_NAME = /key|secret|token|credential|password/i;
const SENSITIVE_HEADER = /auth|key|secret|token|cookie|password|credential/i;

/**
 * Whether a `litellm_params` field holds a credential: api_key,
 * aws_secret_access_key, aws_session_token, vertex_credentials, and anything
 * named like one. Only strings are credentials: `input_cost_per_token` is a
 * number and stays readable; so does `litellm_credential_name`, which names one.
 */
export function isCredentialField(name: string, value: unknown): boolean {
  return typeof value === 'string' && CREDENTIAL_NAME.test(name) && name !== 'litellm_credential_name';
}

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

/**
 * What a response, a log line or an audit row may show of `litellm_params`:
 * credential fields and auth headers are left out entirely (sealed or not,
 * config models carry theirs resolved), as LiteLLM's /model/info does.
 */
export function publicParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (isCredentialField(name, value) || isSealed(value)) continue;
    if (name === 'extra_headers' && value && typeof value === 'object') {
      out[name] = Object.fromEntries(Object.entries(value).filter(([h, v]) => !isSensitiveHeader(h) && !isSealed(v)));
    } else out[name] = value;
  }
  return out;
}
