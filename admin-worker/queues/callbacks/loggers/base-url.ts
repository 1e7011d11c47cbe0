/**
 * A logger's base URL as one rule reads it, both where its path is appended (PostHog's `/batch/`) and where it is
 * compared with the environment's before the environment's key is sent there (logger-owners.ts takesEnvKey), so
 * the two can never disagree on where a key goes.
 */

/**
 * The URL's origin and path without trailing slashes; its query and fragment are left out (they would take the
 * appended path's place). Undefined when it is not an http(s) URL, or carries credentials: another destination.
 */
export function baseOf(url: string | URL): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return undefined;
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
