/**
 * The Responses API ids clients see, as LiteLLM makes them: the provider's
 * response id together with the provider and the deployment that answered
 * (`litellm:custom_llm_provider:{provider};model_id:{deployment id};
 * response_id:{id}`), base64-encoded behind `resp_`. A follow-up
 * (`previous_response_id`) or `GET /v1/responses/{id}` then reaches the
 * deployment that stored the response, whichever of its group's deployments
 * that was. Tollgate writes base64url (no `/` to escape in a URL path) and
 * reads both alphabets, so ids LiteLLM made read too.
 */

export interface ManagedResponseId {
  provider: string;
  deploymentId: string;
  responseId: string;
}

const ASSEMBLED = /^litellm:custom_llm_provider:(.*?);model_id:(.*?);response_id:(.+)$/s;
/** A provider's response id as it may go into a URL path (no `/`, no `.` or `..` segment). */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function managedResponseId(provider: string, deploymentId: string, responseId: string): string {
  const bytes = encoder.encode(`litellm:custom_llm_provider:${provider};model_id:${deploymentId};response_id:${responseId}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `resp_${btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
}

/** The parts of an id managedResponseId (or LiteLLM) made; undefined for any other id (a provider's own). */
export function decodeResponseId(id: string): ManagedResponseId | undefined {
  if (!id.startsWith('resp_') || id.length > 4096) return undefined;
  let text: string;
  try {
    const b64 = id.slice(5).replaceAll('-', '+').replaceAll('_', '/');
    const binary = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    text = decoder.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const match = ASSEMBLED.exec(text);
  return match && SAFE_ID.test(match[3]!) ? { provider: match[1]!, deploymentId: match[2]!, responseId: match[3]! } : undefined;
}
