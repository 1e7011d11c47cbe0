import type { GatewayEnv } from '../env.ts';
import { type Admission, type AdmissionInput, policyAndHeaders } from './admission-answer.ts';
import type { AdmitResult, EntityView } from './entity-limiter.ts';
import { linked, routes } from './key-routes.ts';
import { fromLease, type LocalLease, maybeReturn, type Target, unuse } from './local-leases.ts';

/**
 * A request admitted under a lease, settled locally: the difference from its estimate goes back
 * into (or comes out of) the lease, which is handed back if it was retired and this was its last.
 */
export function settleLease(env: GatewayEnv, lease: LocalLease, input: Pick<AdmissionInput, 'estCost' | 'estTokens'>, cost: number, tokens: number): Promise<void> | undefined {
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
export function admitFromLeases(env: GatewayEnv, input: AdmissionInput, token: string): Admission | undefined {
  const route = routes.get(token);
  if (!route) return undefined;
  const brought = linked(route, undefined);
  const targets: Target[] = [{ kind: 'key', id: token }, ...brought];
  if (input.endUser) targets.push({ kind: 'end_user', id: input.endUser });
  if (input.globalBudget) targets.push({ kind: 'global', id: 'proxy' });
  if (input.budgets) for (const id of input.budgets) targets.push({ kind: 'global', id });
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
    known = { token, views, answer: policyAndHeaders(token, results, input.endUser) };
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
