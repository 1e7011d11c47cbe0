/**
 * The gateway's and the admin Worker's own log lines. As text they are what
 * `console` prints; with `litellm_settings.json_logs: true` each is one JSON
 * object a line, as LiteLLM's JSON formatter writes them (`message`, `level`
 * as Python's level names, `timestamp`, and `stacktrace` when an error is
 * logged), so a log collector reads fields instead of parsing text.
 *
 * The lines carry what the call sites put in them and nothing more: no
 * context, env or request data is added, so a line that held no secret as
 * text holds none as JSON.
 */
type Level = 'info' | 'warn' | 'error';

/** Python's level names, which LiteLLM's JSON lines carry. */
const LEVEL_NAMES: Record<Level, string> = { info: 'INFO', warn: 'WARNING', error: 'ERROR' };

/**
 * `litellm_settings.json_logs` as the bundled config says it (true, or "true"
 * in any case). worker/config/config-env.ts applies it when it loads, and every
 * entry point and Durable Object of both Workers imports that module, so each
 * isolate agrees from its first line, queue consumers and cron ticks that never
 * load the validated config included. (This module itself imports no bundled
 * config: the Node scripts, `npm start` among them, load it too.)
 */
export function bundledJsonLogs(config: unknown): boolean {
  const settings = (config as { litellm_settings?: { json_logs?: unknown } } | undefined)?.litellm_settings;
  const value = settings?.json_logs;
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

let jsonLogs = false;

/**
 * Turns JSON lines on or off for this isolate: the validated config's value
 * (worker/config/runtime.ts, where an `os.environ/` value is resolved), and
 * tests.
 */
export function setJsonLogs(on: boolean): void {
  jsonLogs = on;
}

/** One log line's JSON: the arguments joined as console joins them, an error's stack beside them. */
export function jsonLine(level: Level, args: readonly unknown[], now = new Date()): string {
  let stacktrace: string | undefined;
  const message = args.map((a) => {
    if (a instanceof Error) {
      stacktrace ??= a.stack;
      return a.message;
    }
    if (typeof a === 'string') return a;
    try {
      return JSON.stringify(a) ?? String(a);
    } catch {
      return String(a);
    }
  }).join(' ');
  return JSON.stringify({ message, level: LEVEL_NAMES[level], timestamp: now.toISOString(), ...(stacktrace ? { stacktrace } : {}) });
}

function write(level: Level, args: unknown[]): void {
  const line = jsonLogs ? [jsonLine(level, args)] : args;
  // Text: exactly what the call site would have printed itself (console.log for info, as before).
  if (level === 'info') console.log(...line);
  else console[level](...line);
}

/** The log every gateway and admin Worker line goes through, at console's levels. */
export const log = {
  info: (...args: unknown[]): void => write('info', args),
  warn: (...args: unknown[]): void => write('warn', args),
  error: (...args: unknown[]): void => write('error', args),
};
