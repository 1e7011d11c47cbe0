import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAll, ConfigError, compileConfig, ROOT } from '../scripts/lib/build.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('offline build (wrangler deploy --dry-run)', () => {
  it('bundles both Workers with the compiled config inside', async () => {
    const build = await buildAll(join(ROOT, 'test/fixtures/reference-guide.yaml'), join(dir, 'ok'), {});
    for (const script of Object.values(build.scripts)) {
      expect(existsSync(script)).toBe(true);
      const code = readFileSync(script, 'utf8');
      // The reference guide's model groups travel in the bundle; its os.environ references stay references.
      expect(code).toContain('claude-sonnet-bedrock-me');
      expect(code).toContain('os.environ/AZURE_OPENAI_API_KEY_UAE');
    }
    expect(build.compiled.warnings.length).toBeGreaterThan(0);
  });

  it('refuses a bad config before bundling, listing each problem by path', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'model_list:\n  - model_name: x\n    litellm_params: {model: azzure/gpt-4o}\n  - litellm_params: {model: mock/y}\n');
    const err = await buildAll(file, join(dir, 'bad'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'model_list[0].litellm_params.model: unknown provider "azzure"',
      'model_list[1].model_name: is required',
    ]);
    expect(existsSync(join(dir, 'bad', 'gateway', 'index.js'))).toBe(false);
  });

  it('reports YAML syntax errors with their line, not a stack trace', () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'model_list:\n  - model_name: x\n   litellm_params: [\n');
    const err = (() => { try { compileConfig(file, {}); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatch(/^YAML line \d+: /);
  });

  it('compiles config.example.yaml with no warnings beyond unset variables', () => {
    const compiled = compileConfig(join(ROOT, 'config.example.yaml'), {});
    expect(compiled.warnings.filter((w) => !w.includes('is not set'))).toEqual([]);
  });
});
