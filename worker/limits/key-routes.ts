import { type EntityKind, teamMemberId } from './client.ts';
import type { EntityView } from './entity-limiter.ts';
import type { Target } from './local-leases.ts';

export interface Route {
  teamId: string | null;
  organizationId: string | null;
  userId: string | null;
  /** Learnt from the team's answer: its organization, and whether its members have budgets of their own. */
  teamOrg?: string | null;
  memberBudgets?: boolean;
}

/**
 * Which other entities apply to a key: learnt from its limiter's answers and
 * kept per isolate, so warm requests ask all of them in one parallel round.
 * The key's limiter reports the current route on every answer; a change
 * (a key moved to another team) is followed at once.
 */
export const routes = new Map<string, Route>();
const ROUTES_MAX = 50_000;

/** Remembers the route a key's limiter reported (bounded: the oldest goes first). */
export function rememberRoute(token: string, route: Route): void {
  if (routes.size >= ROUTES_MAX && !routes.has(token)) routes.delete(routes.keys().next().value as string);
  routes.set(token, route);
}

/** The kinds linked() brings in. */
export const LINKED_KINDS: ReadonlySet<EntityKind> = new Set(['team', 'org', 'team_member', 'user']);

/** The entities a key's route brings in: its team (and the team's org), else its user. */
export function linked(route: Route | undefined, team: EntityView | undefined): Target[] {
  if (!route) return [];
  const out: Target[] = [];
  if (route.teamId) out.push({ kind: 'team', id: route.teamId });
  const org = route.organizationId ?? (team ? team.organizationId : route.teamOrg) ?? null;
  if (org) out.push({ kind: 'org', id: org });
  // `max_budget_in_team`: the key's user inside its team, when the team has member budgets.
  if (route.teamId && route.userId && (team ? team.memberBudgets : route.memberBudgets)) out.push({ kind: 'team_member', id: teamMemberId(route.userId, route.teamId) });
  // LiteLLM: a key in a team is held to the team's budget, not its user's personal one.
  if (route.userId && !route.teamId) out.push({ kind: 'user', id: route.userId });
  return out;
}
