import type { Caller } from '../../auth/authenticate.ts';
import type { RequestHeaders } from '../../providers/types.ts';
import { M, type MetricDef, NONE } from './registry.ts';

/**
 * LiteLLM's `litellm_settings.custom_prometheus_metadata_labels`
 * (`litellm/integrations/prometheus.py`, `get_custom_labels_from_metadata`):
 * each entry, `"metadata.foo"`, adds a label `metadata_foo` to the
 * request-level metrics whose value is the call's metadata `foo`. Only type
 * imports beside the registry: the config schema validates entries with the
 * same rules.
 */

/** The request-level metrics that carry the custom labels (the ones a finished or refused call counts in). */
export const CUSTOM_LABELLED: readonly MetricDef[] = [
  M.proxyTotal, M.proxyFailed, M.spend, M.totalTokens, M.inputTokens, M.outputTokens,
  M.requestLatency, M.llmLatency, M.ttft, M.overhead, M.deploymentSuccess, M.deploymentFailure, M.deploymentTotal,
];

/** Label names a custom label may not take: those of the metrics above, and the histograms' `le`. */
export const RESERVED_LABEL_NAMES: ReadonlySet<string> = new Set(['le', ...CUSTOM_LABELLED.flatMap((d) => d.labels)]);

/** The most entries the setting takes: each multiplies the label sets of thirteen metrics. */
export const MAX_CUSTOM_LABELS = 20;
/**
 * The longest value kept (in UTF-16 units), longer ones cut: a value is the client's to write,
 * so this and the series cap (TOLLGATE_METRICS_MAX_SERIES) are what bound it.
 */
export const MAX_CUSTOM_LABEL_CHARS = 100;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** LiteLLM's `_sanitize_prometheus_label_name`: every character outside [a-zA-Z0-9_] becomes `_`, a leading digit gets a `_` before it. */
export function customLabelName(entry: string): string {
  const name = entry.replace(/[^a-zA-Z0-9_]/g, '_');
  if (!name) return '_';
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Whether a name can be a custom label's on every labelled metric (used by the shards on what isolates send). */
export function isCustomLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__') && !RESERVED_LABEL_NAMES.has(name);
}

/** The setting, compiled once per config: label names and the path into the metadata each reads. */
export interface CustomLabels {
  names: readonly string[];
  paths: readonly (readonly string[])[];
}

let compiledFor: readonly string[] | undefined;
let compiled: CustomLabels | undefined;

/** The compiled setting, or undefined when it is unset or empty (the config was validated: entries are well-formed). */
export function customLabels(entries: readonly string[] | undefined): CustomLabels | undefined {
  if (!entries || entries.length === 0) return undefined;
  if (entries !== compiledFor) {
    compiledFor = entries;
    // As LiteLLM reads an entry: a leading "metadata." is dropped and the rest is a dotted path.
    compiled = { names: entries.map(customLabelName), paths: entries.map((e) => (e.startsWith('metadata.') ? e.slice(9) : e).split('.')) };
  }
  return compiled;
}

/**
 * The labels of one call, as name/value pairs (the form a series carries them in), from the
 * metadata LiteLLM merges for them (`_get_combined_custom_metadata_from_standard_logging_payload`):
 * the request body's `metadata`, then the key's team's and the key's own metadata
 * (`user_api_key_auth_metadata`), then `spend_logs_metadata` (the `x-litellm-spend-logs-metadata`
 * header, else the body's `metadata.spend_logs_metadata`, gaps filled from the key's), later ones
 * winning on a key. Undefined when the setting is unset.
 */
export function callCustomLabels(entries: readonly string[] | undefined, caller: Caller, body: Record<string, unknown>, headers: RequestHeaders): string[] | undefined {
  const spec = customLabels(entries);
  if (!spec) return undefined;
  const request = isMapping(body.metadata) ? body.metadata : undefined;
  const key = caller.kind === 'key' ? caller.policy.metadata : undefined;
  const team = caller.kind === 'key' ? caller.policy.team?.metadata : undefined;
  const header = headers.get('x-litellm-spend-logs-metadata');
  const spendLogs = header !== null ? parseJson(header) : request?.spend_logs_metadata;
  return customLabelPairs(spec, [spendLogs, key?.spend_logs_metadata, key, team, request]);
}

/**
 * The pairs: the string at each entry's path in the first of `sources` (highest precedence first)
 * that has the path's first key, bounded by customLabelValue; "None" where there is none or it is
 * no string (LiteLLM takes string values only).
 */
export function customLabelPairs(spec: CustomLabels, sources: readonly unknown[]): string[] {
  const pairs: string[] = [];
  for (let i = 0; i < spec.names.length; i++) {
    const path = spec.paths[i] as readonly string[];
    const first = path[0] as string;
    let value: unknown = undefined;
    // Python's {**a, **b}: the merged mapping's key is the last source's that has it, whatever its value.
    for (const source of sources) {
      if (isMapping(source) && Object.hasOwn(source, first)) {
        value = source[first];
        break;
      }
    }
    for (let p = 1; p < path.length && value !== undefined && value !== null; p++) {
      const part = path[p] as string;
      value = isMapping(value) && Object.hasOwn(value, part) ? value[part] : undefined;
    }
    pairs.push(spec.names[i] as string, typeof value === 'string' ? customLabelValue(value) : NONE);
  }
  return pairs;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A metadata value as a label value: LiteLLM's `_sanitize_prometheus_label_value` line handling
 * (U+2028, U+2029 and CR removed, LF made a space; the exposition escapes backslashes and quotes
 * once), the other control characters but tab removed (U+0001 separates a series' values),
 * lone surrogates replaced, then cut to MAX_CUSTOM_LABEL_CHARS without splitting a pair.
 */
export function customLabelValue(value: string): string {
  let v = value.length > MAX_CUSTOM_LABEL_CHARS * 2 ? value.slice(0, MAX_CUSTOM_LABEL_CHARS * 2) : value;
  v = v.replace(/[\u2028\u2029\r]/g, '').replace(/\n/g, ' ').replace(CONTROL, '').replace(LONE_SURROGATE, '\ufffd');
  if (v.length <= MAX_CUSTOM_LABEL_CHARS) return v;
  const cut = v.slice(0, MAX_CUSTOM_LABEL_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
