/**
 * ClickHouse's answer to one statement, read as the loggers' PostResult. An exception met before ClickHouse
 * answers comes with the status its HTTP interface maps the code to (exceptionCodeToHTTPStatus) and
 * X-ClickHouse-Exception-Code. One met after it began a 200 is written into that 200's body (`Code: N.
 * DB::Exception: ...`, framed by `__exception__` on recent servers), with the header only if it was not yet sent:
 * such a 200 did not do all it was asked, so it is read as the status ClickHouse would have answered.
 */
import { type PostResult, refusedAnswer } from './types.ts';

/** Codes that blame the statement or its data (CANNOT_PARSE_*, INCORRECT_DATA, TYPE_MISMATCH, SYNTAX_ERROR, ...): 400. */
const BAD_REQUEST = new Set([6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441, 676, 677]);
/** Unknown names (UNKNOWN_TABLE 60, UNKNOWN_DATABASE 81, UNKNOWN_SETTING 115, ...): 404. */
const NOT_FOUND = new Set([46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511]);
/** Credentials or grants refused (UNKNOWN_USER, WRONG_PASSWORD, ACCESS_DENIED, SET_NON_GRANTED_ROLE, AUTHENTICATION_FAILED): 403. */
const FORBIDDEN = new Set([192, 193, 497, 512, 516]);
/** REQUIRED_PASSWORD, QUERY_IS_TOO_LARGE, NOT_IMPLEMENTED, CANNOT_OPEN_FILE, SOCKET_TIMEOUT, HTTP_LENGTH_REQUIRED, CANNOT_SCHEDULE_TASK, TIMEOUT_EXCEEDED. */
const OTHER = new Map([[194, 401], [229, 413], [48, 501], [76, 503], [209, 503], [381, 411], [439, 503], [159, 408]]);

/** The status ClickHouse's HTTP interface answers an exception code with; 500 for any it does not map. */
export function statusOfCode(code: number): number {
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (FORBIDDEN.has(code)) return 403;
  return OTHER.get(code) ?? 500;
}

/** The exception code a 2xx's body reports: its number, '' for an `__exception__` marker without one, else undefined. */
function bodyException(answer: string): string | undefined {
  const code = /Code: (\d+)\. DB::Exception/.exec(answer)?.[1];
  return code ?? (answer.includes('__exception__') ? '' : undefined);
}

/**
 * What a refusal says of ClickHouse's answer: its exception code and name (`Code: 27. CANNOT_PARSE_...`), never its
 * message, which quotes the rows it could not read (their prompts and answers) into log lines and alerts.
 */
function exceptionNamed(answer: string, code: string | undefined): string {
  const named = code ?? /Code: (\d+)\. DB::Exception/.exec(answer)?.[1];
  const name = /\(([A-Z][A-Z0-9_]+)\) \(version /.exec(answer)?.[1];
  return `${named ? `: Code: ${named}.` : ''}${name ? ` ${name}` : ''}`;
}

/** What became of a statement, from ClickHouse's status, answer and exception code header; the code when one was named. */
export function clickhouseResult(status: number, answer: string, headerCode: string | null): { result: PostResult; code?: string } {
  const named = headerCode ? { code: headerCode } : {};
  if (status < 200 || status >= 300) {
    const refused = refusedAnswer({ status, answer: '' }) as Extract<PostResult, { ok: false }>;
    return { result: { ...refused, reason: `${refused.reason}${exceptionNamed(answer, headerCode ?? undefined)}` }, ...named };
  }
  // A successful statement answers an empty body: only a body is read for an exception.
  const code = headerCode ?? (answer ? bodyException(answer) : undefined);
  if (code === undefined) return { result: { ok: true } };
  const as = code ? statusOfCode(Number(code)) : 500;
  const failed = refusedAnswer({ status: as, answer: '' }) as Extract<PostResult, { ok: false }>;
  const reason = `HTTP ${status} carrying exception code ${code || '(unnamed)'} (read as ${as})${exceptionNamed(answer, undefined).replace(/^: Code: \d+\./, '')}`;
  return { result: { ...failed, reason }, ...(code ? { code } : {}) };
}
