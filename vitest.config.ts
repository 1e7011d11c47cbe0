import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Unit tests get an empty bundled config where the Workers' builds alias the compiled config.yaml.
  resolve: { alias: { 'tollgate-config': fileURLToPath(new URL('./test/support/unit-config.json', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts', 'worker/**/*.test.ts', 'admin-worker/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Each integration suite runs its own workerd; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
