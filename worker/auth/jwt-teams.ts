import { GatewayError } from '../errors.ts';
import type { GatewayEnv } from '../env.ts';
import { LimiterKeyStore } from '../limits/key-store.ts';
import { mayCall } from '../models/access.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import type { Who } from './authenticate.ts';
import type { KeyPolicy } from './key-policy.ts';
import { type Choice, MAX_REMEMBERED_NAME, remember, remembered } from './jwt-team-choice.ts';
import { jwtSubject } from './jwt-identity.ts';

/**
 * LiteLLM's team for a JWT whose team comes from `team_ids_jwt_field`'s list of several. A model call takes the
 * first listed team that exists and may call the requested model, and is refused (403) when that team is blocked,
 * as LiteLLM refuses a blocked team: another team is never billed in its place; a 403 naming the teams when none
 * may. A route that calls no model takes the first listed team that exists. The teams are looked up at once, and
 * the choice (or the refusal) is remembered per isolate for 30 s, keyed on the model and the token's whole list
 * (JSON, so no name can pose as another's list); a team created, blocked or given the model is taken up after that.
 */

function teamsOf(alternatives: readonly string[]): string[] {
  return alternatives.map((t) => jwtSubject(t)?.teamId).filter((t): t is string => !!t);
}

/**
 * The caller as the team chosen for the model call to `group` (see above); `who` itself when it lists no teams.
 * `resolves` says whether `group` names deployments: only then is the choice remembered.
 */
export async function jwtTeamForModel(env: GatewayEnv, who: Who, group: string, catalog: ModelCatalog, resolves: boolean, now = Date.now()): Promise<Who> {
  const alternatives = who.alternatives;
  if (!alternatives?.length) return who;
  const id = JSON.stringify([group, ...alternatives]);
  const cacheable = resolves && group.length <= MAX_REMEMBERED_NAME;
  let choice = cacheable ? remembered(id, alternatives, now) : undefined;
  if (!choice) {
    const keys = new LimiterKeyStore(env);
    const policies = await Promise.all(alternatives.map((token) => keys.lookup(token)));
    choice = chooseForModel(alternatives, policies, group, catalog);
    if (cacheable) remember(id, choice, now);
  }
  if ('refuse' in choice) throw choice.refuse();
  return { ...who, token: choice.token };
}

function chooseForModel(alternatives: readonly string[], policies: (KeyPolicy | null)[], group: string, catalog: ModelCatalog): Choice {
  for (const [i, token] of alternatives.entries()) {
    const policy = policies[i];
    if (!policy || policy.refusal) continue;
    if (!mayCall({ kind: 'key', token, policy }, group, catalog)) continue;
    const team = jwtSubject(token)?.teamId ?? '';
    if (policy.blocked || policy.team?.blocked) {
      return { refuse: () => new GatewayError(`Authentication Error - Team=${team} is blocked. Update via \`/team/unblock\` if you're admin.`, { status: 403, type: 'auth_error', param: 'team' }) };
    }
    return { token };
  }
  const teams = teamsOf(alternatives);
  return {
    refuse: () => new GatewayError(`No team has access to the requested model: ${group}. Checked teams=${JSON.stringify(teams)}. Check \`/models\` to see all available models.`, {
      status: 403, type: 'team_model_access_denied', param: 'model',
    }),
  };
}
