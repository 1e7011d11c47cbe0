import type { GatewayEnv } from '../env.ts';
import { type Admission, type AdmissionInput, firstRefusal, policyAndHeaders, viewOf } from './admission-answer.ts';
import { AdmissionRound } from './admission-round.ts';
import { now } from './clock.ts';
import { LINKED_KINDS, linked, rememberRoute, type Route, routes } from './key-routes.ts';
import { admitFromLeases } from './lease-admission.ts';
import type { Target } from './local-leases.ts';
import { toGatewayError } from './refusals.ts';

const redirects = new Map<string, { token: string; until: number }>();

/**
 * Admission in one parallel round of limiter calls: the key's, and its team's,
 * organization's or user's, and the end user's. Every one must admit; the
 * most restrictive answer wins (in LiteLLM's order: key, team, org, user, end
 * user), and the others' admissions are undone. Throws the refusal.
 */
export async function admitCall(env: GatewayEnv, input: AdmissionInput, depth = 0): Promise<Admission> {
  let token = input.token;
  const redirect = redirects.get(token);
  if (redirect && redirect.until > now()) token = redirect.token;
  else if (redirect) redirects.delete(token);
  const fromLeases = input.master ? undefined : admitFromLeases(env, input, token);
  if (fromLeases) return fromLeases;
  const round = new AdmissionRound(env, input);
  const { results } = round;
  // A limiter that fails (503): what the others admitted is undone, in the background.
  const ask = (targets: Target[]) => round.ask(targets).catch((err: unknown) => {
    input.waitUntil(round.undo());
    throw err;
  });

  const first: Target[] = [];
  if (!input.master) first.push({ kind: 'key', id: token }, ...linked(routes.get(token), undefined));
  if (input.endUser) first.push({ kind: 'end_user', id: input.endUser });
  if (input.globalBudget) first.push({ kind: 'global', id: 'proxy' });
  if (input.budgets) for (const id of input.budgets) first.push({ kind: 'global', id });
  await ask(first);

  if (!input.master) {
    const keyResult = results.get(`key:${token}`)?.result;
    if (keyResult?.ok === 'redirect' && depth === 0) {
      // A rotated key in its grace period: the limits are those of the key that replaced it.
      redirects.set(input.token, { token: keyResult.token, until: keyResult.until });
      await round.undo();
      return admitCall(env, input, depth + 1);
    }
    const keyView = viewOf(results, 'key', token);
    if (keyView?.exists) {
      const route: Route = { teamId: keyView.teamId, organizationId: keyView.organizationId, userId: keyView.userId };
      rememberRoute(token, route);
      // A cold isolate (or a changed route) needs a second round for the entities the key brings in.
      const teamView = viewOf(results, 'team', route.teamId);
      const wanted = linked(route, teamView);
      await ask(wanted);
      const finalTeam = viewOf(results, 'team', route.teamId);
      const orgFromTeam = linked(route, finalTeam);
      await ask(orgFromTeam);
      // What the team said, so the next request asks its organization and member in the first round.
      route.teamOrg = finalTeam?.organizationId ?? null;
      route.memberBudgets = finalTeam?.memberBudgets ?? false;
      // Entities asked under a stale route no longer apply.
      for (const [name, { target }] of results) {
        if (LINKED_KINDS.has(target.kind) && !orgFromTeam.some((t) => t.kind === target.kind && t.id === target.id)) round.drop(name);
      }
    }
  }

  const refusal = firstRefusal(results);
  if (refusal) {
    await round.undo();
    throw toGatewayError(refusal);
  }
  return {
    ...policyAndHeaders(input.master ? null : token, results, input.endUser),
    leased: false,
    settle: (cost, tokens) => round.settle(cost, tokens),
    release: () => round.undo(),
  };
}
