import { afterAll, beforeAll, vi } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../fakes/upstream.ts';
import { callbackModels } from './callback-config.ts';
import { startTestStack, type TestStack } from './stack.ts';

/**
 * What a logger suite shares: a fake provider on loopback, the logger's destination faked on loopback, and workerd
 * on the callback suites' config.yaml head (callbackModels) with the logger's settings and environment.
 */

export interface LoggerStack<D> { upstream: FakeUpstream; destination: D; stack: TestStack }

export interface LoggerStackOptions<D> {
  /** Starts the destination's fake. */
  destination: () => Promise<D>;
  /** The config.yaml after callbackModels' head (`litellm_settings` and the rest). */
  settings: string;
  /** The stack's environment: FAKE_OPENAI_KEY (the provider key) and the logger's variables, pointing it at the destination. */
  env: (destination: D) => Record<string, string>;
}

/**
 * Registers the calling suite's stack, beforeAll/afterAll (stopped in the reverse order), so each suite does not
 * repeat it; `started` gets the parts once they are up.
 */
export function useLoggerStack<D extends { close(): Promise<void> }>(options: LoggerStackOptions<D>, started: (s: LoggerStack<D>) => void): void {
  const live: Partial<LoggerStack<D>> = {};
  beforeAll(async () => {
    live.upstream = await startFakeUpstream();
    live.destination = await options.destination();
    live.stack = await startTestStack({ configYaml: `${callbackModels(live.upstream.url)}${options.settings}`, env: options.env(live.destination) });
    started(live as LoggerStack<D>);
  });
  afterAll(async () => {
    await live.stack?.stop();
    await live.destination?.close();
    await live.upstream?.close();
  });
}

/** The Workers' log lines while `run` runs (the runtime's output is piped to this process's console). */
export async function consoleLines(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spies = (['error', 'warn', 'log', 'info'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' '))));
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}
