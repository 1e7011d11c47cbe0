import { envRefName } from '../../worker/config/env-ref.ts';

/**
 * The mask of a secret value as the admin API shows it: its last four characters (none of a short one);
 * an `os.environ/NAME` reference is not a secret and shows as written.
 *
 * @example masked('sk-lf-0123456789abcd') // '...abcd'
 */
export const masked = (v: unknown): unknown => (typeof v !== 'string' || envRefName(v) !== undefined ? v : v.length >= 12 ? `...${v.slice(-4)}` : '****');

/** Whether a value is a mask (what `masked` shows), which must never be stored as the secret it stands for. */
export const isMask = (v: unknown): boolean => typeof v === 'string' && /^(\.\.\.[\s\S]{4}|\*{4})$/.test(v);
