import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe("config.yaml's include (LiteLLM's modular configs)", () => {
  mkdirSync(join(dir, 'inc', 'models'), { recursive: true });
  const write = (name: string, text: string) => { const file = join(dir, 'inc', name); writeFileSync(file, text); return file; };
  const problemsOf = (file: string) => {
    try { compileConfig(file, {}); } catch (e) { if (e instanceof ConfigError) return e.problems; throw e; }
    throw new Error('expected a ConfigError');
  };
  it('merges the included files in order: lists joined, other sections replaced with a warning; includes nest', () => {
    write('models/openai.yaml', 'include: [more.yaml]\nmodel_list:\n  - model_name: gpt\n    litellm_params: {model: mock/gpt}\n');
    write('models/more.yaml', 'model_list:\n  - model_name: claude\n    litellm_params: {model: mock/claude}\n');
    write('settings.yaml', 'general_settings:\n  max_request_size_mb: 5\n');
    const main = write('config.yaml', [
      'include:', '  - models/openai.yaml', '  - settings.yaml',
      'model_list:', '  - model_name: local', '    litellm_params: {model: mock/local}',
      'general_settings:', '  max_request_size_mb: 1',
    ].join('\n'));
    const compiled = compileConfig(main, {});
    const config = compiled.config as { model_list: { model_name: string }[]; general_settings: unknown; include?: unknown };
    expect(config.model_list.map((m) => m.model_name)).toEqual(['local', 'gpt', 'claude']);
    expect(config.general_settings).toEqual({ max_request_size_mb: 5 });
    expect(config.include).toBeUndefined();
    expect(compiled.warnings).toEqual(['include settings.yaml: its general_settings replaces the one before it (only lists are joined, as in LiteLLM)']);
    // A file two others include is merged once.
    write('shared.yaml', 'model_list:\n  - model_name: shared\n    litellm_params: {model: mock/shared}\n');
    write('a.yaml', 'include: [shared.yaml]\n');
    write('b.yaml', 'include: [shared.yaml]\n');
    const diamond = compileConfig(write('diamond.yaml', 'include: [a.yaml, b.yaml]\n'), {});
    expect((diamond.config as { model_list: { model_name: string }[] }).model_list.map((m) => m.model_name)).toEqual(['shared']);
    expect(diamond.warnings).toEqual(['include shared.yaml: included more than once; merged once']);
    // A single file name works too.
    expect((compileConfig(write('single.yaml', 'include: settings.yaml\n'), {}).config as { general_settings: unknown }).general_settings).toEqual({ max_request_size_mb: 5 });
  });

  it('refuses a missing file, a broken one, a cycle and a bad include value, naming the included file', () => {
    expect(problemsOf(write('missing.yaml', 'include: [nowhere.yaml]\n'))).toEqual(['include nowhere.yaml: cannot be read (ENOENT)']);
    write('broken.yaml', 'model_list: [\n');
    expect(problemsOf(write('uses-broken.yaml', 'include: [broken.yaml]\n'))[0]).toMatch(/^include broken\.yaml: YAML line \d+: /);
    write('loop-b.yaml', 'include: [loop-a.yaml]\n');
    expect(problemsOf(write('loop-a.yaml', 'include: [loop-b.yaml]\n'))).toEqual(['include loop-a.yaml: included again by a file it includes']);
    expect(problemsOf(write('bad-include.yaml', 'include: {a: 1}\n'))).toEqual(['include: expected a list of file paths']);
    write('list.yaml', '- a\n');
    expect(problemsOf(write('uses-list.yaml', 'include: [list.yaml]\n'))).toEqual(['include list.yaml: expected a mapping of config sections']);
  });
});
