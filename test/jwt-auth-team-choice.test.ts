import { describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../worker/auth/key-policy.ts';
import { jwtToken } from '../worker/auth/jwt-identity.ts';
import { jwtTeamForRoute, remember, remembered } from '../worker/auth/jwt-team-choice.ts';

/**
 * The remembered team choices of JWTs listing several teams (jwt-team-choice.ts): keyed on the whole list as
 * JSON, so a model name or team id holding a newline cannot pose as another token's list, a choice is only ever a
 * team the asking token lists, the lookups run at once, and a choice is kept 30 s.
 */

const team = (id: string) => jwtToken({ teamId: id, userId: 'u', orgId: null });

/** A key store whose teams in `existing` exist; counts lookups and the most in flight at once. */
function store(existing: string[]) {
  const seen = { calls: 0, inFlight: 0, most: 0 };
  return {
    seen,
    async lookup(token: string): Promise<KeyPolicy | null> {
      seen.calls++;
      seen.inFlight++;
      seen.most = Math.max(seen.most, seen.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.inFlight--;
      const known = existing.some((id) => team(id) === token);
      return (known ? { token } : { token, refusal: { status: 404, type: 'not_found_error', param: 'team_id', message: 'gone' } }) as unknown as KeyPolicy;
    },
  };
}

describe('jwtTeamForRoute', () => {
  it('takes the first listed team that exists, looking the teams up at once, and remembers it for 30 s', async () => {
    const keys = store(['r-b', 'r-c']);
    const list = [team('r-a'), team('r-b'), team('r-c')];
    expect(await jwtTeamForRoute(keys, list, 1_000)).toBe(team('r-b'));
    expect(keys.seen.most).toBe(3);
    expect(await jwtTeamForRoute(keys, list, 20_000)).toBe(team('r-b'));
    expect(keys.seen.calls).toBe(3);
    await jwtTeamForRoute(keys, list, 40_000);
    expect(keys.seen.calls).toBe(6);
  });

  it('falls back to the first listed team when none exists (its 404 names it)', async () => {
    expect(await jwtTeamForRoute(store([]), [team('n-a'), team('n-b')], 1_000)).toBe(team('n-a'));
  });
});

describe('remembered choices', () => {
  it('are not shared by a list that only joins to the same text', () => {
    const victim = JSON.stringify(['mock-gpt', team('v-a'), team('v-x'), team('v-y')]);
    remember(victim, { token: team('v-a') }, 1_000);
    // The old "\n"-joined key of model "mock-gpt\n<v-a>" and list [v-x, v-y] was the victim's.
    const forged = JSON.stringify([`mock-gpt\n${team('v-a')}`, team('v-x'), team('v-y')]);
    expect(remembered(forged, [team('v-x'), team('v-y')], 2_000)).toBeUndefined();
    expect(remembered(victim, [team('v-a'), team('v-x'), team('v-y')], 2_000)).toEqual({ token: team('v-a') });
  });

  it('never answer a team the asking token does not list', () => {
    const id = JSON.stringify(['mock-gpt', team('l-a'), team('l-b')]);
    remember(id, { token: team('l-z') }, 1_000);
    expect(remembered(id, [team('l-a'), team('l-b')], 2_000)).toBeUndefined();
  });
});
