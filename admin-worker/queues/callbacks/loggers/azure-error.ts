/**
 * Azure's error code in an answer, as its data-plane services give it (Storage, the Logs Ingestion API): the
 * `x-ms-error-code` header, else the JSON answer's `error.code`; never its message, which may quote the request.
 * '' when there is none. Cut to 64 characters: it goes into reasons.
 */
export function azureErrorCode(headers: Headers, text: string): string {
  const header = headers.get('x-ms-error-code');
  if (header) return header.slice(0, 64);
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code.slice(0, 64) : '';
  } catch {
    return '';
  }
}
