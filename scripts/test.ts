/**
 * `npm test [-- vitest args]`: every suite (unit, integration against the
 * real local runtime and a real Postgres), then one last line
 * `N passed, N failed` (also written to .tollgate/test-summary.txt for CI).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUIET_WRANGLER, ROOT } from './lib/build.ts';

const out = join(ROOT, '.tollgate');
mkdirSync(out, { recursive: true });
const report = join(out, 'test-results.json');
writeFileSync(report, '{}');

const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [vitest, ...args], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...QUIET_WRANGLER } });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});

const results = JSON.parse(readFileSync(report, 'utf8')) as {
  numPassedTests?: number; numFailedTests?: number; numPendingTests?: number; numTodoTests?: number;
  testResults?: { status: string; message?: string; name: string }[];
};
const passed = results.numPassedTests ?? 0;
// A suite that failed to load has no tests to count; count it as one failure so it cannot pass silently.
const brokenSuites = (results.testResults ?? []).filter((s) => s.status === 'failed' && s.message).length;
let failed = (results.numFailedTests ?? 0) + brokenSuites;
// vitest exits non-zero on errors outside any test (an unhandled rejection, a crashed worker): count one.
if (code !== 0 && failed === 0) failed = 1;
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
if (skipped) console.log(`!! ${skipped} tests were skipped`);
const summary = `${passed} passed, ${failed} failed`;
writeFileSync(join(out, 'test-summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(code !== 0 || failed > 0 ? 1 : 0);
