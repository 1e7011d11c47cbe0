/** POST /key/health: whether the calling key's own logging is set up, proven by a test event. */
import { keyLangfuse } from '../../../worker/telemetry/langfuse/logging-settings.ts';
import type { AdminContext } from '../../lib/context.ts';
import { credentialsOf } from '../../queues/callbacks/credentials.ts';
import { sendTestTrace } from '../health-services.ts';

interface LoggingStatus {
  callbacks: string[];
  status: 'healthy' | 'unhealthy';
  details: string;
}

/**
 * LiteLLM's `/key/health`: for a key whose `metadata.logging` names
 * callbacks, a test event to each (Langfuse, the one Tollgate serves per key:
 * a test trace to the key's own project, with its own credentials); the key
 * is unhealthy when one fails. `logging_callbacks` is null for a key without
 * its own logging (and the master key). Credentials never appear in the answer.
 */
export async function keyHealth(c: AdminContext): Promise<Response> {
  const caller = c.get('caller');
  const metadata = caller.kind === 'key' ? caller.policy.metadata : {};
  const logging = Array.isArray(metadata.logging) ? metadata.logging as unknown[] : undefined;
  if (!logging) return c.json({ key: 'healthy', logging_callbacks: null });
  const names = logging.map((entry) => (entry && typeof entry === 'object' ? (entry as { callback_name?: unknown }).callback_name : undefined));
  const callbacks = names.filter((n): n is string => typeof n === 'string' && n !== '');
  const problems: string[] = [];
  if (callbacks.length < names.length) problems.push('callback_name is required in key_logging');
  for (const name of new Set(callbacks)) {
    if (name !== 'langfuse') {
      problems.push(`${name}: not a callback Tollgate sends a key's events to (it serves langfuse)`);
      continue;
    }
    const resolved = credentialsOf(keyLangfuse(metadata)?.vars, c.env);
    if (!resolved.ok) {
      problems.push(`langfuse: ${resolved.reason}`);
      continue;
    }
    const sent = await sendTestTrace(resolved.credentials, '/key/health');
    if (!sent.ok) problems.push(`langfuse: the test trace was not taken: ${brief(sent.reason)}`);
  }
  const status: LoggingStatus = problems.length
    ? { callbacks, status: 'unhealthy', details: `Logging test failed: ${problems.join('; ')}` }
    : { callbacks, status: 'healthy', details: `A test trace was sent to each; check that it arrived in ${JSON.stringify(callbacks)}` };
  return c.json({ key: status.status, logging_callbacks: status });
}

/**
 * What went wrong, without what the host answered: the host is the key's own, and its answer
 * (an error page of whatever it points at) is not for the caller to read through the gateway.
 */
function brief(reason: string): string {
  return /^(HTTP \d+( \(a redirect, not followed\))?|no answer within \d+ ms|unreachable|\d{3})/.exec(reason)?.[0] ?? 'failed';
}
