/**
 * One logger's OAuth2 access tokens for Google service accounts (gcs_bucket's, gcs_pubsub's), signed with the
 * Vertex AI code's signer for the logger's scope and kept per isolate until near their expiry. Each logger keeps
 * its own failures and its own record of which tokens are new, so one logger's exchange never passes for a fresh
 * (or a stale) token of the other's.
 */
import { GatewayError } from '../../../../worker/errors.ts';
import { AccessTokens, parseServiceAccount, type ServiceAccount } from '../../../../worker/providers/vertex_ai/service-account.ts';
import { envText, httpUrl, type LoggerEnv, type PostResult } from './types.ts';

/** How long this isolate remembers a service account's failed token exchange (or a fresh token its service refused). */
export const TOKEN_FAILURE_MS = 30_000;

/**
 * The service account in GCS_PATH_SERVICE_ACCOUNT (the key's JSON: a Worker reads no files), its token_uri an
 * http(s) URL; else what is wrong with it, never the key's text.
 */
export function serviceAccountOf(env: LoggerEnv): { account: ServiceAccount } | { error: string } {
  const keyText = envText(env, 'GCS_PATH_SERVICE_ACCOUNT');
  if (!keyText) return { error: 'GCS_PATH_SERVICE_ACCOUNT is not set for the admin Worker (the service account key\'s JSON)' };
  if (!keyText.startsWith('{')) return { error: 'GCS_PATH_SERVICE_ACCOUNT is a path: a Worker reads no files, give the service account key\'s JSON itself' };
  let account: ServiceAccount;
  try {
    account = parseServiceAccount(keyText);
  } catch {
    // Never the key's text: the parser's message is about vertex_credentials, and the key is a secret.
    return { error: 'GCS_PATH_SERVICE_ACCOUNT is not a service account key\'s JSON (needs client_email and private_key)' };
  }
  const tokenUri = httpUrl(account.token_uri ?? 'https://oauth2.googleapis.com/token', 'the service account\'s token_uri');
  return 'error' in tokenUri ? tokenUri : { account };
}

const accountKey = (a: ServiceAccount) => `${a.client_email}\n${a.token_uri ?? ''}\n${a.private_key}`;

export class ServiceAccountTokens {
  private readonly tokens: AccessTokens;
  private readonly logger: string;
  private readonly service: string;
  /** Per account (client_email, token_uri, key): the failure remembered and until when. */
  private readonly failures = new Map<string, { until: number; reason: string }>();
  /** Per account: its newest token, so a batch knows the tokens exchanged during it. */
  private readonly newest = new Map<string, string>();

  /** `logger` labels the token endpoint's errors; `service` names who refused a fresh token (GCS, Pub/Sub). */
  constructor(options: { logger: string; service: string; scope?: string }) {
    this.tokens = new AccessTokens({ scope: options.scope });
    this.logger = options.logger;
    this.service = options.service;
  }

  /**
   * Remembers that the account gets no usable token, so the other requests of this batch (and the next batches,
   * for TOKEN_FAILURE_MS) are retried at once rather than each signing and sending an exchange of their own.
   */
  remember(account: ServiceAccount, reason: string): PostResult {
    this.failures.set(accountKey(account), { until: Date.now() + TOKEN_FAILURE_MS, reason });
    return { ok: false, retry: true, reason };
  }

  /**
   * The access token for a request, or the failure (a fresh one or one remembered) that retries it. A token
   * exchanged for this batch joins `fresh`: the service refusing one of those is the account's fault, not a revocation.
   */
  async token(account: ServiceAccount, fresh: Set<string>): Promise<string | PostResult> {
    const key = accountKey(account);
    const failed = this.failures.get(key);
    if (failed && Date.now() < failed.until) return { ok: false, retry: true, reason: failed.reason };
    try {
      const token = await this.tokens.token(account, this.logger, this.logger);
      if (this.newest.get(key) !== token) {
        this.newest.set(key, token);
        fresh.add(token);
      }
      return token;
    } catch (err) {
      // The token endpoint's own words (invalid_grant: ...), never the assertion; a refused key waits for its mending.
      const why = err instanceof GatewayError ? err.message.replace(/^.*?Exception - /, '') : `unreachable (${err instanceof Error ? err.name : typeof err})`;
      return this.remember(account, `no access token for the service account: ${why.slice(0, 200)}`);
    }
  }

  /**
   * The service answered 401 for `token`: it is dropped (unless another request already got a newer one), so the
   * retry signs in anew. One exchanged for this batch and refused at once is the account's own failure: a new
   * exchange would not help, so it is remembered (and returned) as one. `detail`: the service's error code.
   */
  refused(account: ServiceAccount, token: string, fresh: Set<string>, detail: string): PostResult | undefined {
    this.tokens.forget(account, token);
    if (!fresh.has(token)) return undefined;
    return this.remember(account, `no access token for the service account: ${this.service} refused a fresh one (HTTP 401${detail ? ` ${detail}` : ''})`);
  }
}
