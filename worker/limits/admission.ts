import type { GatewayEnv } from '../env.ts';
import type { KeyPolicy } from '../auth/key-policy.ts';
import { firstRefusal, keyPolicy, rateLimitHeaders, viewOf } from './admission-answer.ts';
import { bounded } from './bounded.ts';
import { type EntityKind, teamMemberId } from './client.ts';
import { now } from './clock.ts';
import type { AdmitRequest, AdmitResult, EntityView, Settlement } from './entity-limiter.ts';
import { endLease, fromLease, isHot, isolateId, keepLease, lastLeaseId, limiter, type LocalLease, maybeReturn, refills, type Target, unuse } from './local-leases.ts';
import { toGatewayError } from './refusals.ts';

interface Route {
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
const routes = new Map<string, Route>();
const redirects = new Map<string, { token: string; until: number }>();
const ROUTES_MAX = 50_000;

export interface AdmissionInput {
  token: string;
  master: boolean;
  requestId: string;
  model: string;
  endUser: string | null;
  estCost: number;
  estTokens: number;
  /** Every deployment of the model is free: budgets do not apply (LiteLLM skips them for zero-cost models); limits do. */
  free?: boolean;
  /** The config sets a proxy-wide budget (general_settings.max_budget): it applies to every request, the master key's too. */
  globalBudget: boolean;
  /** Keeps the isolate alive until a lease granted to this request has been returned. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface Admission {
  /** The key's policy as its limiter and its team's hold it (null for the master key). */
  policy: KeyPolicy | null;
  /** `x-ratelimit-*` headers of the tightest limit that applied. */
  headers: Record<string, string>;
  /** Answered from leases alone: `headers` is then the same object for every request the leases admit. */
  leased: boolean;
  /**
   * After the response: actual cost and tokens into every entity that admitted the request.
   * Undefined when that was all done here, in the isolate's leases, with nothing left to wait for.
   */
  settle(cost: number, tokens: number): Promise<void> | undefined;
  /** The request will not run after all (refused later, e.g. model access): undo the admissions. */
  release(): Promise<void>;
}

/** The kinds linked() brings in. */
const LINKED_KINDS: ReadonlySet<EntityKind> = new Set(['team', 'org', 'team_member', 'user']);

/** The entities a key's route brings in: its team (and the team's org), else its user. */
function linked(route: Route | undefined, team: EntityView | undefined): Target[] {
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
  const request = (t: Target): AdmitRequest => ({ ...t, requestId: input.requestId, model: input.model, estCost: input.estCost, estTokens: input.estTokens, ...(input.free ? { free: true } : {}), holder: isolateId(), replacing: lastLeaseId(`${t.kind}:${t.id}`) });
  const results = new Map<string, { target: Target; result: AdmitResult }>();
  const leased = new Map<string, LocalLease>();
  const answered = (t: Target, answer: AdmitResult) => {
    results.set(`${t.kind}:${t.id}`, { target: t, result: answer });
    if (answer.ok === true && answer.lease) {
      const lease = keepLease(t, answer.lease, answer.view);
      // Returned at its end even if no other request comes to notice it expired.
      input.waitUntil(new Promise((r) => setTimeout(r, Math.max(0, answer.lease!.expiresAt - now()))).then(() => endLease(env, lease)));
    }
  };
  const takeLease = (t: Target): boolean => {
    const name = `${t.kind}:${t.id}`;
    const lease = fromLease(name, input.estCost, input.estTokens);
    if (!lease) return false;
    leased.set(name, lease);
    results.set(name, { target: t, result: { ok: true, view: lease.view } });
    return true;
  };
  const ask = async (targets: Target[]) => {
    const fresh = targets.filter((t) => !results.has(`${t.kind}:${t.id}`));
    // A hot entity's lease admits here, without a call.
    let remote = fresh.filter((t) => !takeLease(t));
    // A hot entity whose lease ran out while this isolate already asks its object (and will get the next
    // lease): wait for that answer rather than every request in flight calling the object at once.
    const refilling = remote.filter((t) => refills.has(`${t.kind}:${t.id}`));
    if (refilling.length) {
      await Promise.all(refilling.map((t) => refills.get(`${t.kind}:${t.id}`)));
      remote = remote.filter((t) => !takeLease(t));
    }
    await Promise.all(remote.map((t) => {
      const name = `${t.kind}:${t.id}`;
      const call = bounded(limiter(env, t.kind, t.id).admit(request(t)), t).then((answer) => answered(t, answer as AdmitResult));
      if (isHot(name) && !refills.has(name)) {
        refills.set(name, call.catch(() => undefined).then(() => void refills.delete(name)));
      }
      return call;
    }));
  };

  const first: Target[] = [];
  if (!input.master) first.push({ kind: 'key', id: token }, ...linked(routes.get(token), undefined));
  if (input.endUser) first.push({ kind: 'end_user', id: input.endUser });
  if (input.globalBudget) first.push({ kind: 'global', id: 'proxy' });
  await ask(first);

  if (!input.master) {
    const keyResult = results.get(`key:${token}`)?.result;
    if (keyResult?.ok === 'redirect' && depth === 0) {
      // A rotated key in its grace period: the limits are those of the key that replaced it.
      redirects.set(input.token, { token: keyResult.token, until: keyResult.until });
      await undo(env, input.requestId, results, leased, input);
      return admitCall(env, input, depth + 1);
    }
    const keyView = viewOf(results, 'key', token);
    if (keyView?.exists) {
      const route: Route = { teamId: keyView.teamId, organizationId: keyView.organizationId, userId: keyView.userId };
      if (routes.size >= ROUTES_MAX) routes.delete(routes.keys().next().value as string);
      routes.set(token, route);
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
        if (LINKED_KINDS.has(target.kind)) {
          if (!orgFromTeam.some((t) => t.kind === target.kind && t.id === target.id)) {
            const r = results.get(name)?.result;
            const lease = leased.get(name);
            if (lease) unuse(lease, input);
            else if (r?.ok === true) void limiter(env, target.kind, target.id).release(target.kind, target.id, input.requestId);
            leased.delete(name);
            results.delete(name);
          }
        }
      }
    }
  }

  const refusal = firstRefusal(results);
  if (refusal) {
    await undo(env, input.requestId, results, leased, input);
    throw toGatewayError(refusal);
  }
  const admitted = [...results.entries()].filter(([name, r]) => r.result.ok === true && !leased.has(name)).map(([, r]) => r.target);
  return {
    ...policyAndHeaders(input.master ? null : token, results),
    leased: false,
    settle: async (cost, tokens) => {
      await Promise.all([
        ...[...leased.values()].map((lease) => settleLease(env, lease, input, cost, tokens)),
        ...admitted.map((t) => limiter(env, t.kind, t.id).settle({ ...t, requestId: input.requestId, model: input.model, cost, tokens } satisfies Settlement)),
      ]);
    },
    release: () => undo(env, input.requestId, results, leased, input),
  };
}

/** The key's policy (null for none) and the rate-limit headers, from every entity's answer. */
function policyAndHeaders(token: string | null, results: Map<string, { target: Target; result: AdmitResult }>): Pick<Admission, 'policy' | 'headers'> {
  const keyView = viewOf(results, 'key', token);
  const teamView = viewOf(results, 'team', keyView?.teamId ?? null);
  return {
    policy: token && keyView ? keyPolicy(token, keyView, teamView, {
      // A personal key (no team) is held to its user's model list; any key to its organization's.
      user: keyView.teamId ? undefined : viewOf(results, 'user', keyView.userId),
      org: viewOf(results, 'org', keyView.organizationId ?? teamView?.organizationId ?? null),
    }) : null,
    headers: rateLimitHeaders(results),
  };
}

/**
 * A request admitted under a lease, settled locally: the difference from its estimate goes back
 * into (or comes out of) the lease, which is handed back if it was retired and this was its last.
 */
function settleLease(env: GatewayEnv, lease: LocalLease, input: AdmissionInput, cost: number, tokens: number): Promise<void> | undefined {
  lease.left.cost += input.estCost - cost;
  lease.left.tokens += input.estTokens - tokens;
  lease.used.cost += cost;
  lease.used.tokens += tokens;
  lease.inFlight -= 1;
  return lease.retired && lease.inFlight === 0 ? maybeReturn(env, lease) : undefined;
}

/**
 * The policies and headers admitFromLeases answered, per key view, one per set of the other entities'
 * views (a hot key's requests may name several end users): a lease's views stay the same for its life,
 * so a hot key's policy and headers are built once a lease, not once a request.
 */
const leaseAnswers = new WeakMap<EntityView, { token: string; views: EntityView[]; answer: Pick<Admission, 'policy' | 'headers'> }[]>();
const ANSWERS_PER_KEY = 16;

/**
 * A hot key's steady state: every entity that applies (the key, those its route brings in, the end
 * user, the proxy-wide budget) admits from a lease this isolate holds, with no limiter call and no
 * await. Undefined, with nothing taken, unless each has a lease here with room and the key's view
 * still names the route its entities were chosen by; admitCall then asks their objects.
 */
function admitFromLeases(env: GatewayEnv, input: AdmissionInput, token: string): Admission | undefined {
  const route = routes.get(token);
  if (!route) return undefined;
  const brought = linked(route, undefined);
  const targets: Target[] = [{ kind: 'key', id: token }, ...brought];
  if (input.endUser) targets.push({ kind: 'end_user', id: input.endUser });
  if (input.globalBudget) targets.push({ kind: 'global', id: 'proxy' });
  const taken: LocalLease[] = [];
  const giveBack = () => Promise.all(taken.map((lease) => {
    unuse(lease, input);
    return maybeReturn(env, lease);
  })).then(() => undefined);
  const fallBack = () => {
    if (taken.length) input.waitUntil(giveBack());
    return undefined;
  };
  for (const t of targets) {
    const lease = fromLease(`${t.kind}:${t.id}`, input.estCost, input.estTokens);
    if (!lease) return fallBack();
    taken.push(lease);
  }
  const keyView = (taken[0] as LocalLease).view;
  const teamView = route.teamId ? taken[1]?.view : undefined;
  // The key's own view decides its route (a key moved to another team): it must bring in the entities taken.
  const current = keyView.exists ? linked({ teamId: keyView.teamId, organizationId: keyView.organizationId, userId: keyView.userId }, teamView) : undefined;
  if (!current || current.length !== brought.length || current.some((t, i) => t.kind !== brought[i]?.kind || t.id !== brought[i]?.id)) return fallBack();
  const views = taken.map((l) => l.view);
  let answers = leaseAnswers.get(keyView);
  if (!answers) leaseAnswers.set(keyView, (answers = []));
  let known = answers.find((a) => a.token === token && a.views.length === views.length && a.views.every((v, i) => v === views[i]));
  if (!known) {
    const results = new Map(targets.map((t, i) => [`${t.kind}:${t.id}`, { target: t, result: { ok: true, view: views[i] } as AdmitResult }]));
    known = { token, views, answer: policyAndHeaders(token, results) };
    if (answers.length >= ANSWERS_PER_KEY) answers.shift();
    answers.push(known);
  }
  return {
    ...known.answer,
    leased: true,
    settle: (cost, tokens) => {
      let returns: Promise<void>[] | undefined;
      for (const lease of taken) {
        const returned = settleLease(env, lease, input, cost, tokens);
        if (returned) (returns ??= []).push(returned);
      }
      return returns && Promise.all(returns).then(() => undefined);
    },
    release: giveBack,
  };
}

async function undo(env: GatewayEnv, requestId: string, results: Map<string, { target: Target; result: AdmitResult }>, leased: Map<string, LocalLease>, input: AdmissionInput): Promise<void> {
  const calls: Promise<void>[] = [];
  for (const [name, { target, result }] of results) {
    const lease = leased.get(name);
    if (lease) {
      unuse(lease, input);
      calls.push(maybeReturn(env, lease));
    } else if (result.ok === true) {
      calls.push(limiter(env, target.kind, target.id).release(target.kind, target.id, requestId));
    }
  }
  leased.clear();
  await Promise.all(calls);
}
