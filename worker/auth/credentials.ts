/**
 * The key a client presented: `Authorization: Bearer`, else `x-api-key`
 * (Anthropic SDK), else `api-key` (Azure SDK), as LiteLLM accepts them.
 */
export function presentedKey(headers: Headers): string | undefined {
  const auth = headers.get('authorization');
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return match?.[1]?.trim() || undefined;
  }
  return headers.get('x-api-key')?.trim() || headers.get('api-key')?.trim() || undefined;
}
