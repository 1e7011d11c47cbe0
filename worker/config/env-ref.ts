/**
 * LiteLLM's `os.environ/NAME` references. A config value written this way is
 * read from the Worker's environment (vars and secrets on Cloudflare, the
 * container environment in-region, the shell of `npm start` locally) when the
 * Worker starts, never baked into the bundle.
 */
export const ENV_PREFIX = 'os.environ/';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variable name of an `os.environ/NAME` reference, or undefined for any other value. */
export function envRefName(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(ENV_PREFIX)) return undefined;
  const name = value.slice(ENV_PREFIX.length);
  return ENV_NAME.test(name) ? name : undefined;
}

/**
 * One setting read when it is used (LiteLLM's `get_secret`): an `os.environ/NAME` value is the variable, a
 * literal is itself; either trimmed, blank counting as unset. `missing` names a referenced variable that is unset
 * or blank, so a caller can say which one to set; a blank literal is just unset (the caller's fallback applies).
 * Every per-call credential reader (Langfuse's, the key/team loggers', the AWS signers') goes through here, so a
 * value with a stray newline or a blank variable means the same everywhere.
 */
export function resolveEnvRef(value: string | undefined, env: Record<string, unknown>): { value?: string; missing?: string } {
  if (value === undefined) return {};
  const name = envRefName(value);
  if (!name) return value.trim() === '' ? {} : { value: value.trim() };
  const found = env[name];
  return typeof found === 'string' && found.trim() !== '' ? { value: found.trim() } : { missing: name };
}

// A reference inside a longer value (`Bearer os.environ/COHERE_API_KEY`, a pass-through endpoint's header).
const EMBEDDED_REF = /os\.environ\/([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * A value with every `os.environ/NAME` in it (whole, or inside: `Bearer os.environ/KEY`) replaced by the
 * variable, read when it is used; `unset` says what to do about one that is not set.
 */
export function expandEnvRefs(value: string, env: Record<string, unknown>, unset: (name: string) => string): string {
  return value.replace(EMBEDDED_REF, (_, name: string) => {
    const found = env[name];
    return typeof found === 'string' && found !== '' ? found : typeof found === 'number' || typeof found === 'boolean' ? String(found) : unset(name);
  });
}

/** Every variable name the config refers to (a whole value, or inside one), in first-seen order. */
export function collectEnvRefs(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') for (const ref of value.matchAll(EMBEDDED_REF)) into.add(ref[1]!);
  else if (Array.isArray(value)) for (const item of value) collectEnvRefs(item, into);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectEnvRefs(item, into);
  return into;
}

export interface EnvResolution {
  value: unknown;
  /** Paths whose variable was not set; the value is dropped there. */
  missing: { path: string; name: string }[];
}

/**
 * Replaces every `os.environ/NAME` with the variable's value. An unset
 * variable drops the field (so an optional setting falls back to its default)
 * and is reported, so the caller can warn or fail as the field requires.
 */
export function resolveEnvRefs(value: unknown, env: Record<string, unknown>, path = '', keepRaw?: (path: string, value: unknown) => boolean): EnvResolution {
  const missing: EnvResolution['missing'] = [];
  const walk = (v: unknown, p: string): unknown => {
    // A value read per call (a pass-through endpoint's header), where an unset variable fails the call rather than drop the field.
    if (keepRaw?.(p, v)) return v;
    const name = envRefName(v);
    if (name) {
      const found = env[name];
      if (typeof found === 'string' && found !== '') return found;
      if (typeof found === 'number' || typeof found === 'boolean') return found;
      missing.push({ path: p, name });
      return undefined;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${p}[${i}]`));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        const r = walk(item, p ? `${p}.${k}` : k);
        if (r !== undefined) out[k] = r;
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, path), missing };
}
