/**
 * What every secret manager client is: a function reading one secret by name. Its failures say why in
 * words that carry no secret (never the value, the token or the manager's answer body).
 */

/** Reads one secret's value; throws SecretReadError. */
export type SecretReader = (name: string, timeoutMs: number) => Promise<string>;

/**
 * Why a read failed: `missing` (the manager has no such secret: a 500, the config names something that
 * is not there), `unavailable` (refused, failing or unreachable: a 503), `config` (the gateway's own
 * settings for the manager are incomplete: a 500).
 */
export class SecretReadError extends Error {
  readonly kind: 'missing' | 'unavailable' | 'config';

  constructor(message: string, kind: 'missing' | 'unavailable' | 'config') {
    super(message);
    this.name = 'SecretReadError';
    this.kind = kind;
  }
}
