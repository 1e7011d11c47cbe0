/**
 * What `GET /public/model_hub` shows of a published model group: LiteLLM's ModelGroupInfo, built from an allowlist.
 * Anyone may read it without a key, so it names the group and its providers (publishing a group is the
 * operator's choice to show what serves it, which LiteLLM's hub page displays), its mode, token limits, prices,
 * summed tpm/rpm, `supports_*` flags and the OpenAI params it takes; never a deployment's model (a Bedrock ARN
 * holds the AWS account id, a Vertex path the project), id, api_base, headers, credentials, team or access groups.
 */
import { findPrice, priceCandidates } from '../cost/prices.ts';
import { supportedOpenAIParams } from '../providers/supported-params.ts';
import type { DeploymentRef, ModelCatalog } from './deployments.ts';

/** LiteLLM's ModelGroupInfo flags; each is true when any deployment's model_info says so. */
const FLAGS = ['supports_parallel_function_calling', 'supports_vision', 'supports_function_calling', 'supports_web_search', 'supports_reasoning'] as const;

export interface HubEntry {
  model_group: string;
  providers: string[];
  max_input_tokens: number | null;
  max_output_tokens: number | null;
  input_cost_per_token: number | null;
  output_cost_per_token: number | null;
  mode: string | null;
  tpm: number | null;
  rpm: number | null;
  supports_parallel_function_calling: boolean;
  supports_vision: boolean;
  supports_function_calling: boolean;
  supports_web_search: boolean;
  supports_reasoning: boolean;
  supported_openai_params: string[];
  is_public_model_group: true;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** One deployment's numbers as /model/info has them: the price map's, then litellm_params' prices, then model_info's. */
function numbers(d: DeploymentRef) {
  const price = findPrice(priceCandidates(d.provider, d.model, d.info.base_model));
  const info = d.info as Record<string, unknown>;
  const params = d.params as Record<string, unknown>;
  return {
    maxInput: num(info.max_input_tokens) ?? price?.maxInputTokens,
    maxOutput: num(info.max_output_tokens) ?? num(info.max_tokens) ?? price?.maxOutputTokens,
    input: num(info.input_cost_per_token) ?? num(params.input_cost_per_token) ?? price?.inputCostPerToken,
    output: num(info.output_cost_per_token) ?? num(params.output_cost_per_token) ?? price?.outputCostPerToken,
    mode: typeof info.mode === 'string' ? info.mode : price?.mode,
  };
}

const most = (values: (number | undefined)[]) => {
  const set = values.filter((v): v is number => v !== undefined);
  return set.length ? Math.max(...set) : null;
};
const sum = (values: unknown[]) => {
  const set = values.map(num).filter((v): v is number => v !== undefined);
  return set.length ? set.reduce((a, b) => a + b, 0) : null;
};

/** The hub's entry for one model group's deployments (as LiteLLM's `_get_model_group_info` sums them). */
export function hubEntry(group: string, deployments: readonly DeploymentRef[]): HubEntry {
  const each = deployments.map(numbers);
  const flag = (name: (typeof FLAGS)[number]) => deployments.some((d) => (d.info as Record<string, unknown>)[name] === true);
  return {
    model_group: group,
    providers: [...new Set(deployments.map((d) => d.provider))],
    max_input_tokens: most(each.map((n) => n.maxInput)),
    max_output_tokens: most(each.map((n) => n.maxOutput)),
    input_cost_per_token: each.map((n) => n.input).find((v) => v !== undefined) ?? null,
    output_cost_per_token: each.map((n) => n.output).find((v) => v !== undefined) ?? null,
    mode: each.map((n) => n.mode).find((m) => m !== undefined) ?? null,
    tpm: sum(deployments.map((d) => (d.params as Record<string, unknown>).tpm)),
    rpm: sum(deployments.map((d) => (d.params as Record<string, unknown>).rpm)),
    supports_parallel_function_calling: flag('supports_parallel_function_calling'),
    supports_vision: flag('supports_vision'),
    supports_function_calling: flag('supports_function_calling'),
    supports_web_search: flag('supports_web_search'),
    supports_reasoning: flag('supports_reasoning'),
    supported_openai_params: supportedOpenAIParams(deployments),
    is_public_model_group: true,
  };
}

/** The entries of the published groups the catalog serves, in the order published; names it does not serve are left out. */
export function hubEntries(catalog: ModelCatalog, groups: readonly string[]): HubEntry[] {
  const out: HubEntry[] = [];
  for (const group of new Set(groups)) {
    const deployments = catalog.groups.get(group);
    if (deployments?.length) out.push(hubEntry(group, deployments));
  }
  return out;
}
