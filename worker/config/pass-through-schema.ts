import { z } from 'zod';
import { bool, nonNegative, str } from './fields.ts';

/**
 * One of `general_settings.pass_through_endpoints` (LiteLLM's config-defined pass-through): requests to
 * `path` (and below it, with `include_subpath`) go to `target` with `headers` added.
 */
export const passThroughEndpointSchema = z.object({
  path: str.regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must be a path such as "/bria" (letters, digits, "._~-/")').refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain "." or ".." segments')
    .refine((p) => p.replace(/\/+$/, '') !== '', 'must name a path below "/" (one at the root would take every request the gateway does not serve)'),
  target: str.url('expected an http(s) URL'),
  /** Added to every request (the operator's win over the client's); values may hold `os.environ/NAME` anywhere. */
  headers: z.record(str, str).optional(),
  /** Send the client's headers on too (never its credentials). */
  forward_headers: bool.optional(),
  include_subpath: bool.optional(),
  /** `false` makes the endpoint public; otherwise a virtual key is required, and its limits and budgets hold. */
  auth: bool.optional(),
  /** The spend of one call. */
  cost_per_request: nonNegative.optional(),
  /** The client's query parameters win over the target's (else the target's win). */
  merge_query_params: bool.optional(),
  methods: z.array(z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH'])).optional(),
  /** Seconds to wait for the target's answer (else `pass_through_request_timeout`, else 600). */
  timeout: nonNegative.optional(),
  id: str.optional(),
});
