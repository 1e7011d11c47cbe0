import { parseModelRef } from '../config/providers.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { type DeploymentRef, deploymentById, type ModelCatalog } from '../models/deployments.ts';

/** `model_group_alias` target: a plain group name, or `{model, hidden}`. */
function aliasTarget(config: TollgateConfig, name: string): string | undefined {
  const alias = config.router_settings.model_group_alias?.[name];
  if (!alias) return undefined;
  return typeof alias === 'string' ? alias : alias.model;
}

/** Hidden aliases still route, but `/v1/models` does not list them (LiteLLM's `hidden`). */
export function visibleAliases(config: TollgateConfig): string[] {
  return Object.entries(config.router_settings.model_group_alias ?? {})
    .filter(([, target]) => typeof target === 'string' || !target.hidden)
    .map(([name]) => name);
}

/**
 * The deployments a requested model name reaches: its group, else the group
 * a `model_group_alias` names, else a wildcard group (`openai/*`, `*`) whose
 * deployment model takes the part the `*` matched (`openai/*` with
 * `openai/gpt-4o` → the OpenAI model `gpt-4o`), as LiteLLM routes them.
 */
export function resolveGroup(config: TollgateConfig, catalog: ModelCatalog, requested: string): { group: string; deployments: DeploymentRef[] } {
  const direct = catalog.groups.get(requested);
  if (direct?.length) return { group: requested, deployments: direct };
  const aliased = aliasTarget(config, requested);
  if (aliased && catalog.groups.get(aliased)?.length) return { group: aliased, deployments: catalog.groups.get(aliased) ?? [] };
  // The most specific wildcard wins: `openai/*` before `*`.
  const wildcards = [...catalog.groups.keys()].filter((name) => name.includes('*')).sort((a, b) => b.length - a.length);
  for (const pattern of wildcards) {
    const matched = matchWildcard(pattern, requested);
    if (matched === undefined) continue;
    const deployments = (catalog.groups.get(pattern) ?? []).flatMap((d) => expand(d, matched, requested));
    if (deployments.length) return { group: pattern, deployments };
  }
  return { group: requested, deployments: [] };
}

/**
 * Whether `requested` reaches a deployment (resolveGroup's list is not empty), for a check made per request: the
 * same lookups, but no group list is sorted or deployment copied.
 */
export function reachesDeployment(config: TollgateConfig, catalog: ModelCatalog, requested: string): boolean {
  if (catalog.groups.get(requested)?.length) return true;
  const aliased = aliasTarget(config, requested);
  if (aliased && catalog.groups.get(aliased)?.length) return true;
  for (const [pattern, deployments] of catalog.groups) {
    if (!pattern.includes('*')) continue;
    const matched = matchWildcard(pattern, requested);
    if (matched !== undefined && deployments.some((d) => !d.params.model.includes('*') || parseModelRef(wildcardModel(d, matched, requested)).ok)) return true;
  }
  return false;
}

/**
 * The deployment a stored object's id names (a stored response's or interaction's `model_id`): a config
 * entry's id, or a wildcard deployment made concrete for one name (`<entry's id>:<matched>`, as expand gives
 * it out), made concrete again through its group, so an object created through `gemini/*` is read back
 * there. `model` is the name the call was made with (a wildcard's concrete name), the one a key is authorized for.
 */
export function deploymentByStoredId(catalog: ModelCatalog, id: string): { deployment: DeploymentRef; model: string } | undefined {
  const plain = deploymentById(catalog, id);
  if (plain) return { deployment: plain, model: plain.group };
  for (const [pattern, deployments] of catalog.groups) {
    if (!pattern.includes('*')) continue;
    for (const d of deployments) {
      if (!id.startsWith(`${d.id}:`)) continue;
      const matched = id.slice(d.id.length + 1);
      const requested = d.params.model === '*' ? matched : pattern.replace('*', matched);
      if (matchWildcard(pattern, requested) === undefined) continue;
      const concrete = expand(d, matchWildcard(pattern, requested)!, requested).find((e) => e.id === id);
      if (concrete) return { deployment: concrete, model: requested };
    }
  }
  return undefined;
}

function matchWildcard(pattern: string, name: string): string | undefined {
  const star = pattern.indexOf('*');
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  if (!name.startsWith(prefix) || !name.endsWith(suffix) || name.length < prefix.length + suffix.length) return undefined;
  return name.slice(prefix.length, name.length - suffix.length);
}

/**
 * The model a wildcard deployment names for one requested name: `*` alone takes the requested name whole (it says
 * which provider, as a bare or prefixed model name); otherwise the `*` takes the part the group's pattern matched.
 */
const wildcardModel = (d: DeploymentRef, matched: string, requested: string) => (d.params.model === '*' ? requested : d.params.model.replace('*', matched));

/** A wildcard deployment made concrete for one requested name. */
function expand(d: DeploymentRef, matched: string, requested: string): DeploymentRef[] {
  if (!d.params.model.includes('*')) return [d];
  const concrete = wildcardModel(d, matched, requested);
  const ref = parseModelRef(concrete);
  if (!ref.ok) return [];
  const id = `${d.id}:${d.params.model === '*' ? requested : matched}`;
  return [{ ...d, id, baseId: d.id, provider: ref.provider, model: ref.model, params: { ...d.params, model: concrete } }];
}
