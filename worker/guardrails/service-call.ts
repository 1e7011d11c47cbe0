import { GatewayError } from '../errors.ts';
import { scrubSecrets } from '../providers/openai-compatible/errors.ts';
import type { GuardrailConfig } from './schema.ts';

// A guardrail service that does not answer in this time fails the call (closed, not open).
const TIMEOUT_MS = 10_000;

/** One JSON call to a guardrail service: its answer, or a 502 that names the guardrail (its secrets scrubbed from what the service said). */
export async function post(g: GuardrailConfig, url: URL, body: unknown, headers: Record<string, string>, secrets: (string | undefined)[]): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw unreachable(g, 'no answer');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw unreachable(g, `HTTP ${res.status}: ${scrubSecrets(text, secrets).slice(0, 200)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw unreachable(g, 'an answer that is not JSON');
  }
}

/** A guardrail service that failed or answered what cannot be used: the call fails closed (502), never passes unchecked. */
export function unreachable(g: GuardrailConfig, why: string): GatewayError {
  return new GatewayError(`Guardrail ${g.guardrail_name} (${g.litellm_params.guardrail}) failed to respond: ${why}`, { status: 502, type: 'guardrail_failed_to_respond' });
}

/** `each` over `items`, at most `limit` at a time, results in order. */
export async function inTurns<T, R>(items: readonly T[], limit: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await each(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
