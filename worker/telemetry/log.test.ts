import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundledJsonLogs, jsonLine, log, setJsonLogs } from './log.ts';

afterEach(() => {
  setJsonLogs(false);
  vi.restoreAllMocks();
});

describe('log', () => {
  it('prints what the call site gave, unchanged, without json_logs', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const info = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    log.error('limiter key:ab failed:', 'timeout');
    log.info('budget reset: 2 key');
    expect(error).toHaveBeenCalledWith('limiter key:ab failed:', 'timeout');
    expect(info).toHaveBeenCalledWith('budget reset: 2 key');
  });

  it('prints one JSON object a line, at the same console level, with json_logs', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    setJsonLogs(true);
    log.warn('config config.yaml:\n  a: b', { n: 2 });
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0]?.[0]);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ message: 'config config.yaml:\n  a: b {"n":2}', level: 'WARNING', timestamp: expect.stringMatching(/Z$/) });
  });

  it('puts an error\'s message in the line and its stack in stacktrace, as LiteLLM does', () => {
    const err = new Error('pool closed');
    const parsed = JSON.parse(jsonLine('error', ['database pool error:', err], new Date('2026-11-27T12:00:00Z'))) as Record<string, unknown>;
    expect(parsed).toEqual({ message: 'database pool error: pool closed', level: 'ERROR', timestamp: '2026-11-27T12:00:00.000Z', stacktrace: err.stack });
  });
});

describe('litellm_settings.json_logs from the bundled config', () => {
  it('is decided when config-env.ts loads (every entry point imports it), before any config load: a queue consumer\'s first line is JSON', async () => {
    vi.resetModules();
    vi.doMock('tollgate-config', () => ({ default: { source: 'config.yaml', compiledAt: '', config: { litellm_settings: { json_logs: true } } } }));
    try {
      // Through a path in a variable: the Node typecheck (tsconfig.node.json) does not take in the Workers' modules.
      const configEnv = '../config/config-env.ts';
      await import(/* @vite-ignore */ configEnv);
      const fresh = await import('./log.ts');
      const info = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      fresh.log.info('spend-logs: wrote 3 rows');
      expect(JSON.parse(String(info.mock.calls[0]?.[0]))).toMatchObject({ message: 'spend-logs: wrote 3 rows', level: 'INFO' });
    } finally {
      vi.doUnmock('tollgate-config');
      vi.resetModules();
    }
  });

  it('reads true or its string spelling, and nothing else', () => {
    expect(bundledJsonLogs({ litellm_settings: { json_logs: true } })).toBe(true);
    expect(bundledJsonLogs({ litellm_settings: { json_logs: 'True' } })).toBe(true);
    expect(bundledJsonLogs({ litellm_settings: { json_logs: false } })).toBe(false);
    expect(bundledJsonLogs({ litellm_settings: { json_logs: 'os.environ/JSON_LOGS' } })).toBe(false);
    expect(bundledJsonLogs({ model_list: [] })).toBe(false);
    expect(bundledJsonLogs(undefined)).toBe(false);
  });
});
