/**
 * Where Langfuse is, read as LiteLLM reads LANGFUSE_HOST and a `langfuse_host` of a key's, a team's or a
 * prompt's own, and the one rule for the environment's keys: LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY go only
 * to LANGFUSE_HOST's origin, so a host named anywhere else never receives the proxy's Langfuse secret. Shared
 * by the Langfuse logger (admin-worker/queues/callbacks/credentials.ts) and Langfuse prompts
 * (worker/prompts/langfuse-credentials.ts).
 */

/** LiteLLM's default when LANGFUSE_HOST is unset. */
export const DEFAULT_LANGFUSE_HOST = 'https://cloud.langfuse.com';

/** LiteLLM's normalisation: a host without a scheme is reached over http (a private network); no trailing slash. */
export function normaliseLangfuseHost(host: string): string {
  return (/^https?:\/\//i.test(host) ? host : `http://${host}`).replace(/\/+$/, '');
}

/** The normalised host as a URL, or undefined when it does not parse. */
export function parsedLangfuseHost(host: string): URL | undefined {
  try {
    return new URL(normaliseLangfuseHost(host));
  } catch {
    return undefined;
  }
}

/** The host's origin, or undefined when it is not a plain http(s) URL (no credentials, query or fragment). */
export function langfuseOrigin(host: string): string | undefined {
  const url = parsedLangfuseHost(host);
  return !url || url.username || url.password || url.search || url.hash ? undefined : url.origin;
}

/** Whether the environment's Langfuse keys may go to `host`: only when it is LANGFUSE_HOST's (`envHost`'s) origin. */
export function takesEnvKeys(host: string, envHost: string): boolean {
  const origin = langfuseOrigin(host);
  return origin !== undefined && origin === langfuseOrigin(envHost);
}
