/**
 * What a request without a key (general_settings.public_routes) sees of a deployment at `/model/info`,
 * `/v1/model/info` and `/v2/model/info`: an allowlist, since anything else an operator writes there may be
 * private. `litellm_params.model` can hold a Bedrock ARN (with the AWS account id), a Vertex endpoint path or
 * a fine-tune id; `model_info` holds access group names, `team_id`, the deployment's id and any field an
 * operator adds. A key's caller sees the whole entry, as before.
 */

/** Number fields shown: limits, rates and the prices (input_cost_per_token, output_cost_per_second, ...). */
const NUMBER_FIELDS = /^(?:max_tokens|max_input_tokens|max_output_tokens|tpm|rpm|(?:input|output)_cost_per_\w+|cache_(?:read|creation)_input_token_cost)$/;
const FLAG_FIELDS = /^supports_\w+$/;

/**
 * Whether the public caller may see field `name` with `value`: the mode, prices, token limits, tpm/rpm and
 * `supports_*` flags, and only as the types they have (a string under a price's name is not shown). Null is
 * kept, so the price map's fields keep the shape a key's caller gets.
 */
function shownWithoutKey(name: string, value: unknown): boolean {
  if (name === 'mode') return value === null || typeof value === 'string';
  if (NUMBER_FIELDS.test(name)) return value === null || typeof value === 'number';
  if (FLAG_FIELDS.test(name)) return value === null || typeof value === 'boolean';
  return false;
}

function allowed(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([name, value]) => shownWithoutKey(name, value)));
}

/** A `/model/info` entry as the public caller sees it: the group's name, and of the rest only what is allowed. */
export function entryShownWithoutKey(entry: { model_name: string; litellm_params: Record<string, unknown>; model_info: Record<string, unknown> }) {
  return { model_name: entry.model_name, litellm_params: allowed(entry.litellm_params), model_info: allowed(entry.model_info) };
}
