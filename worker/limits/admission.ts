import type { GatewayEnv } from '../env.ts';
import { type Admission, type AdmissionInput, firstRefusal, policyAndHeaders, viewOf } from './admission-answer.ts';
import { bounded } from './bounded.ts';
import { now } from './clock.ts';
import type { AdmitRequest, AdmitResult, Settlement } from './entity-limiter.ts';
import { LINKED_KINDS, linked, rememberRoute, type Route, routes } from './key-routes.ts';
import { admitFromLeases, settleLease } from './lease-admission.ts';
import { endLease, fromLease, isHot, isolateId, keepLease, lastLeaseId, limiter, type LocalLease, maybeReturn, refills, type Target, unuse } from './local-leases.ts';
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
    ...policyAndHeaders(input.master ? null : token, results, input.endUser),
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
