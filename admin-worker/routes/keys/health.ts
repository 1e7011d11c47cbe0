/** POST /key/health: whether the calling key's own logging is set up, proven by a test event. */
import { keyLangfuse } from '../../../worker/telemetry/langfuse/logging-settings.ts';
import type { AdminContext } from '../../lib/context.ts';
import { credentialsOf } from '../../queues/callbacks/credentials.ts';
import { sendTestTrace } from '../health-services.ts';
import { testPayload } from '../health-loggers.ts';
import { LOGGER_POSTERS } from '../../queues/callbacks/loggers.ts';
import { ownerEnvOf } from '../../queues/callbacks/logger-owners.ts';
import { vendorTarget } from '../../queues/callbacks/otel-vendors.ts';
import { exportSecrets, exportTimeout, postSpans } from '../../queues/callbacks/otlp.ts';
import type { AdminEnv } from '../../env.ts';
import { loggerSecrets, REASON_MAX, scrubbed } from '../../queues/callbacks/loggers/secrets.ts';
import type { LoggerEnv } from '../../queues/callbacks/loggers/types.ts';
import { DYNAMIC_LOGGER_NAMES, DYNAMIC_LOGGER_VARS, keyLoggerSettings } from '../../../worker/telemetry/standard/dynamic-settings.ts';

interface LoggingStatus {
  callbacks: string[];
  status: 'healthy' | 'unhealthy';
  details: string;
}

/**
 * LiteLLM's `/key/health`: for a key whose `metadata.logging` names
 * callbacks, a test event to each (Langfuse: a test trace to the key's own
 * project; LangSmith, GCS and PostHog: a test payload to its own project or bucket; Arize: an export without
 * spans with its own space and key;
 * each with the key's own credentials); the key
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
    if (DYNAMIC_LOGGER_VARS[name]) {
      const problem = await testOwnLogger(name, metadata, c.env as unknown as LoggerEnv);
      if (problem) problems.push(`${name}: ${problem}`);
      continue;
    }
    if (name !== 'langfuse') {
      problems.push(`${name}: not a callback Tollgate sends a key's events to (it serves ${['langfuse', ...DYNAMIC_LOGGER_NAMES].join(', ')})`);
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
 * A test payload to the key's own LangSmith or PostHog project or GCS bucket, with its own settings (as the callback
 * consumer would send its calls), or to the config's when its entry names no variables: why it was not taken,
 * or undefined when it was.
 */
async function testOwnLogger(name: string, metadata: unknown, env: LoggerEnv): Promise<string | undefined> {
  // An entry without variables only turns the logger on for the key's calls, with the config's destination: test that.
  const settings = keyLoggerSettings(name, metadata);
  const ownEnv = settings && Object.keys(settings.vars).length === 0 ? env : ownerEnvOf(name, settings, env, 'key');
  if ('error' in ownEnv && typeof ownEnv.error === 'string') return ownEnv.error;
  if (name === 'arize') return testOwnArize(ownEnv as LoggerEnv);
  const poster = LOGGER_POSTERS[name];
  if (!poster) return 'no poster in this admin Worker';
  let target: ReturnType<typeof poster.target>;
  try {
    target = poster.target(ownEnv as LoggerEnv, { unsampled: true });
  } catch {
    return 'its settings do not make a destination';
  }
  if ('error' in target) return scrubbed(target.error, loggerSecrets(ownEnv as LoggerEnv), REASON_MAX);
  const id = crypto.randomUUID();
  const bytes = new TextEncoder().encode(JSON.stringify(testPayload(id, Date.now())));
  try {
    const result = await target.post([{ bytes, events: 1 }]);
    return result.ok ? undefined : `the test payload was not taken: ${brief(result.reason)}`;
  } catch {
    return 'the test payload was not taken: the request could not be made';
  }
}

/**
 * The key's Arize space and key tried with an export holding no spans, at the environment's Arize endpoint: Arize
 * answers a wrong key 401 whatever the spans.
 */
async function testOwnArize(ownEnv: LoggerEnv): Promise<string | undefined> {
  const target = vendorTarget(ownEnv as unknown as AdminEnv, 'arize');
  if ('error' in target) return target.error;
  const result = await postSpans(target, [], exportTimeout(ownEnv as unknown as AdminEnv), () => exportSecrets(ownEnv as unknown as AdminEnv, target));
  return result.ok ? undefined : `the test export was not taken: ${brief(result.reason)}`;
}

/**
 * What went wrong, without what the host answered: the host is the key's own, and its answer
 * (an error page of whatever it points at) is not for the caller to read through the gateway.
 */
function brief(reason: string): string {
  return /^(HTTP \d+( \(a redirect, not followed\))?|no answer within \d+ ms|unreachable|no access token for the service account|\d{3})/.exec(reason)?.[0] ?? 'failed';
}
