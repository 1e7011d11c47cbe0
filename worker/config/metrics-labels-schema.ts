import { z } from 'zod';
import { customLabelName, MAX_CUSTOM_LABELS, RESERVED_LABEL_NAMES } from '../telemetry/metrics/custom-labels.ts';
import { str } from './fields.ts';

/**
 * `litellm_settings.custom_prometheus_metadata_labels`: LiteLLM's `["metadata.foo", ...]`, each entry
 * a dotted path into a call's metadata that becomes a label (`metadata_foo`) of the request-level
 * metrics (telemetry/metrics/custom-labels.ts). An entry whose label would clash with one the metrics
 * already have, or with another entry's, is refused: LiteLLM's Prometheus client fails to start on it.
 */
/** Path segments that lead to (or name) credentials: callback settings, logging settings, keys, tokens, passwords. */
const SECRET_SEGMENT = /^(?:callback_settings|callback_vars|logging)$|secret|api_key|apikey|token|password|credential|private/i;

export const customMetadataLabelsSchema = z.array(
  str.min(1, 'must not be empty').max(200, 'expected at most 200 characters')
    .regex(/^[^.]+(\.[^.]+)*$/, 'expected a dotted path into the metadata, like "metadata.foo"'),
  { error: 'expected a list of metadata paths, like ["metadata.foo"]' },
).max(MAX_CUSTOM_LABELS, `expected at most ${MAX_CUSTOM_LABELS} labels`).superRefine((entries, ctx) => {
  const seen = new Map<string, string>();
  entries.forEach((entry, i) => {
    const name = customLabelName(entry);
    const secret = entry.split('.').find((segment) => SECRET_SEGMENT.test(segment));
    if (secret !== undefined) {
      // /metrics needs no key: a label reading a stored secret (a team's Langfuse keys, say) would publish it.
      ctx.addIssue({ code: 'custom', path: [i], message: `reads "${secret}", which may hold a secret: /metrics is public` });
    } else if (name.startsWith('__')) {
      ctx.addIssue({ code: 'custom', path: [i], message: `becomes the label "${name}": names starting with "__" are Prometheus's own` });
    } else if (RESERVED_LABEL_NAMES.has(name)) {
      ctx.addIssue({ code: 'custom', path: [i], message: `becomes the label "${name}", which the metrics already have` });
    } else if (seen.has(name)) {
      ctx.addIssue({ code: 'custom', path: [i], message: `becomes the label "${name}", as "${seen.get(name)}" does` });
    }
    seen.set(name, entry);
  });
});
