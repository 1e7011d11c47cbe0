import { toHex } from '../auth/secrets.ts';
import { type ProviderId, parseModelRef } from '../config/providers.ts';
import type { Deployment, TollgateConfig } from '../config/schema.ts';

/** One callable deployment of a model group, resolved from config.yaml (or, later, the database). */
export interface DeploymentRef {
  /** `model_info.id`, else a stable hash of the entry (as LiteLLM derives it). */
  id: string;
  group: string;
  provider: ProviderId;
  /** The provider's model name: `gpt-4o` of `azure/gpt-4o`. */
  model: string;
  params: Deployment['litellm_params'];
  info: NonNullable<Deployment['model_info']>;
  /** A wildcard deployment made concrete for one requested name (id `<entry's id>:<name>`): the config entry's id. */
  baseId?: string;
  /** `litellm_settings.modify_params`: its adapter rewrites chat requests its provider would refuse (providers/modify-params/). */
  modifyParams?: true;
}

export interface ModelCatalog {
  groups: Map<string, DeploymentRef[]>;
  /** access group name → model groups in it (`model_info.access_groups`). */
  accessGroups: Map<string, Set<string>>;
}

/**
 * Groups config.yaml's model_list by `model_name`. Built once per isolate
 * with the config; the hot path only reads the maps.
 */
export async function buildCatalog(config: TollgateConfig): Promise<ModelCatalog> {
  const groups = new Map<string, DeploymentRef[]>();
  const accessGroups = new Map<string, Set<string>>();
  for (const entry of config.model_list) {
    const ref = parseModelRef(entry.litellm_params.model);
    if (!ref.ok) continue; // validation already refused these
    const deployment: DeploymentRef = {
      id: entry.model_info?.id ?? (await deploymentHash(entry)),
      group: entry.model_name,
      provider: ref.provider,
      model: ref.model,
      params: entry.litellm_params,
      info: entry.model_info ?? {},
      ...(config.litellm_settings?.modify_params === true ? { modifyParams: true as const } : {}),
    };
    groups.set(entry.model_name, [...(groups.get(entry.model_name) ?? []), deployment]);
    for (const access of entry.model_info?.access_groups ?? []) {
      accessGroups.set(access, (accessGroups.get(access) ?? new Set()).add(entry.model_name));
    }
  }
  return { groups, accessGroups };
}

async function deploymentHash(entry: Deployment): Promise<string> {
  // A deployment's budget is not part of what it is: changing it keeps the id, so the spend counted under it still applies.
  const { max_budget: _budget, budget_duration: _window, ...params } = entry.litellm_params;
  const text = JSON.stringify([entry.model_name, params]);
  return toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Marks (in `info`) a stand-in for a model only the client named: metric labels leave its names out. */
export const CLIENT_NAMED = 'tollgate_client_named';

/**
 * A deployment no config entry is: a call's model priced by the price table (a pass-through model, a
 * realtime session's transcription model), a config endpoint's path, a refusal's placeholder. Its id is ''.
 */
export function standInDeployment(provider: ProviderId | '', model: string, options: { group?: string; clientNamed?: boolean } = {}): DeploymentRef {
  return {
    id: '', group: options.group ?? model, provider: provider as ProviderId, model, params: { model: provider ? `${provider}/${model}` : model },
    info: options.clientNamed ? { [CLIENT_NAMED]: true } : {},
  };
}

/** A deployment by its id (in `group` when known: the group's list is shorter than every group's). */
export function deploymentById(catalog: ModelCatalog, id: string, group?: string): DeploymentRef | undefined {
  const among = group !== undefined ? catalog.groups.get(group) ?? [] : [...catalog.groups.values()].flat();
  return among.find((d) => d.id === id);
}

/** A video model (OpenAI's Videos API): `model_info.mode: video_generation`, or (no mode given) a Sora model by its name or `base_model`. */
export const isVideoModel = (d: DeploymentRef): boolean => d.info.mode === 'video_generation' || (d.info.mode === undefined && /^sora-/i.test(d.info.base_model ?? d.model));

const SHUFFLE_WEIGHTS = ['weight', 'rpm', 'tpm'] as const;

/**
 * Picks a deployment of the group (LiteLLM's simple-shuffle): weighted by
 * `weight` when the group sets it, else by `rpm`, else by `tpm` (a deployment
 * without the chosen field weighs 0, as in LiteLLM), else uniformly.
 * `random` is injectable for tests.
 */
export function pickDeployment(deployments: readonly DeploymentRef[], random: () => number = Math.random): DeploymentRef | undefined {
  if (deployments.length <= 1) return deployments[0];
  const by = SHUFFLE_WEIGHTS.find((field) => deployments.some((d) => typeof d.params[field] === 'number'));
  const weights = deployments.map((d) => (by ? Number(d.params[by] ?? 0) : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return deployments[Math.floor(random() * deployments.length)];
  let roll = random() * total;
  for (let i = 0; i < deployments.length; i++) {
    roll -= weights[i] ?? 0;
    if (roll < 0) return deployments[i];
  }
  return deployments[deployments.length - 1];
}
