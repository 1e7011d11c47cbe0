import type { JwtAuthSettings, LitellmUserRole } from '../config/jwt-schema.ts';
import { claimAt, idOf } from './jwt-claims.ts';
import type { Claims } from './jwt-verify.ts';

/**
 * LiteLLM's `jwt_litellm_role_map` (its `map_jwt_role_to_litellm_role`): the token's roles are read from
 * `roles_jwt_field` (a list, or one string), and the first entry of the map, in the config's order, whose
 * `jwt_role` pattern matches any of them gives the LiteLLM user role. Patterns are fnmatch's, as in LiteLLM:
 * `*` any run, `?` one character, `[abc]` / `[a-z]` / `[!abc]` a set; everything else is literal, case included.
 * The roles come from the token, so matching never backtracks beyond the last `*` (no regular expression):
 * at most roles × pattern steps, with both bounded below.
 */

type RoleMap = NonNullable<JwtAuthSettings['jwt_litellm_role_map']>;

/** One step of a compiled pattern: a literal, `?`, `*`, or a set of characters and ranges (`negate`: `[!..]`). */
type Step = { kind: 'char'; ch: string } | { kind: 'one' } | { kind: 'star' }
  | { kind: 'set'; negate: boolean; chars: string[]; ranges: [number, number][] };

/** A compiled fnmatch pattern and what is wrong with it for a config (a reversed range, which matches nothing). */
export interface Glob { steps: Step[]; problem?: string }

/** Each map's entries compiled once (a config's settings objects live as long as the config). */
const compiled = new WeakMap<RoleMap, { glob: Glob; role: LitellmUserRole }[]>();

/** The most roles of a token looked at: a claim is the provider's, but a list of thousands must not cost a call much. */
const MAX_ROLES = 256;
/** A role longer than this is no role an operator maps: it is skipped, not matched. */
export const MAX_ROLE_CHARS = 256;
/** The longest `jwt_role` pattern the config takes (jwt-schema.ts). */
export const MAX_PATTERN_CHARS = 256;

/**
 * The LiteLLM user role the operator's `jwt_litellm_role_map` gives a token, or undefined when the map is unset
 * or none of its entries matches a role the token holds (an unmapped role changes nothing).
 */
export function mappedUserRole(claims: Claims, settings: JwtAuthSettings): LitellmUserRole | undefined {
  const map = settings.jwt_litellm_role_map;
  if (!map?.length) return undefined;
  const claim = claimAt(claims, settings.roles_jwt_field);
  const roles = (Array.isArray(claim) ? claim.slice(0, MAX_ROLES).map(idOf) : [idOf(claim)])
    .filter((r): r is string => r !== null && r.length <= MAX_ROLE_CHARS).map((r) => Array.from(r));
  if (!roles.length) return undefined;
  let entries = compiled.get(map);
  if (!entries) compiled.set(map, entries = map.map((e) => ({ glob: compileGlob(e.jwt_role), role: e.litellm_role })));
  return entries.find((e) => roles.some((role) => matchSteps(e.glob.steps, role)))?.role;
}

/** Whether `text` matches the fnmatch pattern `glob` (case-sensitive, as on Linux, where LiteLLM runs). */
export function fnmatch(text: string, glob: string | Glob): boolean {
  return matchSteps((typeof glob === 'string' ? compileGlob(glob) : glob).steps, Array.from(text));
}

/**
 * Python's `fnmatch.translate`, as steps rather than a regular expression: `[` with no closing `]` is literal, a `]`
 * right after `[` or `[!` is in the set, a backslash is literal, and a reversed range (`z-a`) is dropped, as Python
 * drops it; a set left empty matches nothing (`[!]` of nothing: any character).
 */
export function compileGlob(glob: string): Glob {
  const p = Array.from(glob);
  const steps: Step[] = [];
  let problem: string | undefined;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '*') {
      if (steps.at(-1)?.kind !== 'star') steps.push({ kind: 'star' });
    } else if (ch === '?') steps.push({ kind: 'one' });
    else if (ch === '[') {
      let j = i + 1;
      if (p[j] === '!') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j++;
      if (j >= p.length) { steps.push({ kind: 'char', ch }); continue; }
      const negate = p[i + 1] === '!';
      const body = p.slice(negate ? i + 2 : i + 1, j);
      const set: Step & { kind: 'set' } = { kind: 'set', negate, chars: [], ranges: [] };
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          const [lo, hi] = [body[k]!, body[k + 2]!];
          if (lo.codePointAt(0)! <= hi.codePointAt(0)!) set.ranges.push([lo.codePointAt(0)!, hi.codePointAt(0)!]);
          else problem ??= `the range ${lo}-${hi} in "${glob}" is reversed, so it matches nothing (as in Python's fnmatch): write ${hi}-${lo}`;
          k += 2;
        } else set.chars.push(body[k]!);
      }
      steps.push(set);
      i = j;
    } else steps.push({ kind: 'char', ch });
  }
  return problem ? { steps, problem } : { steps };
}

function matchesOne(step: Step, ch: string): boolean {
  if (step.kind === 'char') return step.ch === ch;
  if (step.kind === 'one') return true;
  if (step.kind === 'star') return false;
  const code = ch.codePointAt(0)!;
  const inSet = step.chars.includes(ch) || step.ranges.some(([lo, hi]) => lo <= code && code <= hi);
  return inSet !== step.negate;
}

/**
 * The classic iterative wildcard match: on a mismatch only the last `*` takes one more character, since an earlier
 * `*` could never do better, so the cost is at most text × steps, never exponential.
 */
function matchSteps(steps: Step[], text: string[]): boolean {
  let s = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (s < text.length) {
    const step = steps[p];
    if (step && step.kind === 'star') {
      star = p++;
      resume = s;
    } else if (step && matchesOne(step, text[s]!)) {
      p++;
      s++;
    } else if (star >= 0) {
      p = star + 1;
      s = ++resume;
    } else return false;
  }
  while (steps[p]?.kind === 'star') p++;
  return p === steps.length;
}
