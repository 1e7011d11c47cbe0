/**
 * The headers a provider call sends: its own (credentials, `extra_headers`, content type) over the client's
 * headers the config passes on (ProviderCall.forwarded), whatever the letter case of either: a plain object
 * holding `x-tenant-id` and `X-Tenant-Id` would send both values, and the client's could be read first.
 */
export function withForwarded(forwarded: Readonly<Record<string, string>> | undefined, own: Record<string, string>): Record<string, string> {
  if (!forwarded) return own;
  const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(forwarded)) if (!taken.has(name)) out[name] = value;
  return Object.assign(out, own);
}
