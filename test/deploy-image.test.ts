/**
 * deploy/Dockerfile and deploy/Dockerfile.tools, without a Docker engine: linted
 * (deploy/tools/dockerfile.ts), their context checked against their .dockerignore files, and their
 * stages carried out into directories (deploy/tools/image-layout.ts: `npm ci` is a link to
 * node_modules, the OS setup is skipped), so every COPY is proven to find its sources and the
 * final images to hold what their ENTRYPOINT and the chart's commands need.
 */
import { execFile as execFileCb } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash, goJson, readConfigYaml } from '../deploy/tools/config-hash.ts';
import { dockerignoreFor, execForm, ignored, lintDockerfile, parseDockerfile, readPatterns } from '../deploy/tools/dockerfile.ts';
import { type ImageLayout, layoutImage } from '../deploy/tools/image-layout.ts';
import { postgresAddress, wsProxyCliOptions } from '../deploy/tools/wsproxy.ts';
import { ROOT } from '../scripts/lib/build.ts';
import { chartValues, clusterConfigArgs, imagePlan } from '../scripts/image-build.ts';
import { writeClusterKey } from '../scripts/lib/workerd-cluster.ts';

const execFile = promisify(execFileCb);
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const TOOLS = join(ROOT, 'deploy', 'Dockerfile.tools');
const GUIDE_CONFIG = join(ROOT, 'test', 'fixtures', 'reference-guide.yaml');
const GUIDE_VALUES = join(ROOT, 'deploy', 'helm', 'tollgate', 'values-guide.yaml');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Dockerfiles', () => {
  it('lint clean: named stages, pinned bases, no ADD of URLs, non-root USER, exec forms, apt lists dropped, COPY sources present', () => {
    expect(lintDockerfile(parseDockerfile(DOCKERFILE), ROOT)).toEqual([]);
    expect(lintDockerfile(parseDockerfile(TOOLS), ROOT)).toEqual([]);
  });

  it('the gateway image: workerd as uid 65532 on 8080, state on /data, SIGTERM, the documented ENTRYPOINT', () => {
    const df = parseDockerfile(DOCKERFILE);
    expect(df.stages.map((s) => [s.name, s.base])).toEqual([['build', 'node:22-bookworm-slim'], ['runtime', 'debian:bookworm-slim']]);
    const runtime = df.stages[1]!.instructions;
    const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).at(-1)?.args;
    expect(last('USER')).toBe('65532:65532');
    expect(last('EXPOSE')).toBe('8080');
    expect(execForm(last('VOLUME') ?? '')).toEqual(['/data']);
    expect(last('STOPSIGNAL')).toBe('SIGTERM');
    expect(execForm(last('ENTRYPOINT') ?? '')).toEqual(['/app/workerd', 'serve', '/app/config.capnp', '--experimental', '--socket-addr', 'http=*:8080',
      '--directory-path', 'do-storage=/data/do', '--directory-path', 'queue-storage=/data/queues']);
    expect(df.stages[0]!.args.CONFIG).toBe('config.example.yaml');
    // No HEALTHCHECK (Kubernetes ignores it): the probes are the chart's, and the README says so.
    expect(runtime.some((i) => i.keyword === 'HEALTHCHECK')).toBe(false);
    const readme = readFileSync(join(ROOT, 'deploy', 'README.md'), 'utf8');
    expect(readme).toContain('/health/liveliness');
    expect(readme).toContain('/health/readiness');
  });

  it('the tools image runs as uid 65532 too', () => {
    const tools = parseDockerfile(TOOLS).stages.at(-1)!;
    expect(tools.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('65532:65532');
  });

  it('the linter catches what it is for', () => {
    const bad = join(dir, 'Dockerfile.bad');
    writeFileSync(bad, ['FROM node:latest', 'ADD https://example.com/x.tgz /x', 'RUN apt-get install -y curl', 'COPY nowhere/ /app/', 'COPY node_modules/ /app/', 'ENTRYPOINT node app.js'].join('\n'));
    writeFileSync(`${bad}.dockerignore`, 'node_modules\n');
    const problems = lintDockerfile(parseDockerfile(bad), ROOT).join('\n');
    for (const text of ['not pinned', 'ADD of a URL', '--no-install-recommends', 'apt lists', 'not in the build context: nowhere/', 'excluded by the .dockerignore: node_modules/', 'shell form', 'runs as root']) {
      expect(problems).toContain(text);
    }
  });

  it('the context: each Dockerfile has its own .dockerignore; node_modules, .git, state and secrets stay out; a generated config gets in', () => {
    for (const df of [DOCKERFILE, TOOLS]) {
      const file = dockerignoreFor(df, ROOT);
      expect(file).toBe(`${df}.dockerignore`);
      const patterns = readPatterns(file);
      for (const path of ['node_modules', 'worker/node_modules/x', '.git', '.tollgate/pgdata', '.dev.vars', '.env.production', 'bench/latest.json']) expect(ignored(path, patterns), path).toBe(true);
      for (const path of ['deploy/.build/config.yaml', 'config.example.yaml', 'worker/index.ts', 'deploy/tools/wsproxy.ts']) expect(ignored(path, patterns), path).toBe(false);
    }
  });
});

describe('the images laid out from their Dockerfiles', () => {
  let gateway: ImageLayout;
  let guide: ImageLayout;
  let tools: ImageLayout;

  beforeAll(() => {
    gateway = layoutImage({ dockerfile: DOCKERFILE, context: ROOT, dir: join(dir, 'gateway') });
    // The guide's values run cluster mode: its image is built with the cluster flags image:build passes.
    guide = layoutImage({
      dockerfile: DOCKERFILE, context: ROOT, dir: join(dir, 'guide'),
      buildArgs: { CONFIG: relative(ROOT, GUIDE_CONFIG), WORKERD_CONFIG_ARGS: clusterConfigArgs(chartValues([GUIDE_VALUES])).join(' ') },
    });
    tools = layoutImage({ dockerfile: TOOLS, context: ROOT, dir: join(dir, 'tools') });
  }, 120_000);

  it('the gateway image holds only /app: workerd, config.capnp, its fingerprint and the two bundles', () => {
    expect(readdirSync(gateway.root)).toEqual(['app']);
    const app = join(gateway.root, 'app');
    expect(readdirSync(app).sort()).toEqual(['build', 'config.capnp', 'config.sha256', 'workerd']);
    expect(readdirSync(join(app, 'build')).sort()).toEqual(['admin', 'gateway']);
    accessSync(join(app, 'workerd'), constants.X_OK);
    expect(gateway.log.filter((l) => l.startsWith('ran:'))).toHaveLength(1);
  });

  it('config.capnp embeds the bundles by paths that resolve inside the image, and workerd parses it there', async () => {
    const app = join(gateway.root, 'app');
    const capnp = readFileSync(join(app, 'config.capnp'), 'utf8');
    const embeds = [...capnp.matchAll(/embed "([^"]+)"/g)].map((m) => m[1]!);
    expect(embeds.sort()).toEqual(['build/admin/index.js', 'build/gateway/index.js']);
    for (const e of embeds) expect(statSync(resolve(app, e)).size).toBeGreaterThan(10_000);
    // The ENTRYPOINT's paths, under the image's root.
    const entry = execForm(parseDockerfile(DOCKERFILE).stages[1]!.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args)!;
    for (const path of entry.filter((a) => a.startsWith('/app/'))) expect(existsSync(join(gateway.root, path)), path).toBe(true);
    await execFile(join(app, 'workerd'), ['compile', join(app, 'config.capnp'), '--config-only'], { cwd: app, maxBuffer: 64 * 1024 * 1024 });
  });

  it('a cluster image: config.capnp joins the values\' bucket with the chart-mounted key and credentials, and parses once the key is there', async () => {
    const app = join(guide.root, 'app');
    const capnp = readFileSync(join(app, 'config.capnp'), 'utf8');
    expect(capnp).toContain('bucket = "s3://llm-gateway-tollgate-cluster/prod"');
    expect(capnp).toContain('"aws_endpoint=https://s3.me-south-1.amazonaws.com", "aws_region=me-south-1", "aws_credentials_file=/app/cluster/credentials"');
    // The key is the file the chart mounts at /app/cluster/key, embedded relative to the config; never its value.
    expect(capnp).toContain('key = embed "cluster/key"');
    expect(existsSync(join(app, 'cluster'))).toBe(false);
    await expect(execFile(join(app, 'workerd'), ['compile', join(app, 'config.capnp'), '--config-only'], { cwd: app })).rejects.toThrow();
    writeClusterKey(join(app, 'cluster', 'key'));
    try {
      await execFile(join(app, 'workerd'), ['compile', join(app, 'config.capnp'), '--config-only'], { cwd: app, maxBuffer: 64 * 1024 * 1024 });
    } finally {
      rmSync(join(app, 'cluster'), { recursive: true, force: true });
    }
    // Single-replica values build without any of it.
    expect(readFileSync(join(gateway.root, 'app', 'config.capnp'), 'utf8')).not.toContain('cluster');
  });

  it('the image carries the fingerprint of the config it was built from, as the chart computes it', () => {
    const fingerprint = (l: ImageLayout) => readFileSync(join(l.root, 'app', 'config.sha256'), 'utf8').trim();
    expect(fingerprint(gateway)).toBe(configHash(readConfigYaml(join(ROOT, 'config.example.yaml'))));
    expect(fingerprint(gateway)).toBe(configHash(chartValues().proxy_config));
    expect(fingerprint(guide)).toBe(configHash(readConfigYaml(GUIDE_CONFIG)));
    expect(fingerprint(guide)).not.toBe(fingerprint(gateway));
    // The bundle embeds the config the build arg named.
    expect(readFileSync(join(guide.root, 'app', 'build', 'gateway', 'index.js'), 'utf8')).toContain('gpt-4o-uae-primary');
  });

  it('the tools image has every file and package its three commands import, and no config', () => {
    const app = join(tools.root, 'app');
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.scripts['db:migrate']).toBe('node scripts/migrate.ts');
    const allowed = new Set([...Object.keys(pkg.dependencies), 'ws']);
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      expect(existsSync(file), `${relative(app, file)} is in the tools image`).toBe(true);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'([^']+)'|require\('([^']+)'\)/g)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('.')) {
          if (!spec.endsWith('.json')) walk(resolve(dirname(file), spec));
          continue;
        }
        if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        expect(allowed.has(name), `${relative(app, file)} imports ${spec}: not a production dependency (or ws)`).toBe(true);
      }
    };
    for (const entry of ['deploy/tools/wsproxy.ts', 'scripts/upstash-bridge.ts', 'scripts/migrate.ts']) walk(join(app, entry));
    expect(existsSync(join(app, 'drizzle', 'migrations'))).toBe(true);
    expect(existsSync(join(app, 'config.example.yaml'))).toBe(false);
  });
});

describe('tools', () => {
  it('wsproxy relays only to DATABASE_URL by default, listens on loopback', () => {
    expect(wsProxyCliOptions([], { DATABASE_URL: 'postgres://u:p@pg.data.svc:6432/db' })).toEqual({ host: '127.0.0.1', port: 5488, allow: ['pg.data.svc:6432'] });
    expect(wsProxyCliOptions(['--port', '9', '--allow', 'a:1', '--allow', 'b:2'], {})).toEqual({ host: '127.0.0.1', port: 9, allow: ['a:1', 'b:2'] });
    expect(postgresAddress('postgresql://x@db')).toBe('db:5432');
    expect(() => wsProxyCliOptions([], {})).toThrow(/Nothing to relay to/);
    expect(() => wsProxyCliOptions(['--allow', 'nohost'], {})).toThrow(/HOST:PORT/);
    expect(() => wsProxyCliOptions([], { DATABASE_URL: 'mysql://db' })).toThrow(/postgres/);
  });

  it('the config fingerprint is Go-JSON (what Helm toJson writes): sorted keys, HTML escapes, ECMAScript numbers', () => {
    expect(goJson({ b: [1, 2.5, 1e21, 1e-7, 50000], a: '<&>\u2028', c: null, d: true })).toBe('{"a":"\\u003c\\u0026\\u003e\\u2028","b":[1,2.5,1e+21,1e-7,50000],"c":null,"d":true}');
  });

  it('image:build plans the two docker builds from the values, the config from proxy_config', () => {
    const plan = imagePlan({ values: chartValues([GUIDE_VALUES]), configFile: join(ROOT, 'deploy', '.build', 'config.yaml') });
    expect(plan.image).toBe('registry.example.ae/llm-gateway/tollgate:0.1.0');
    expect(plan.toolsImage).toBe('registry.example.ae/llm-gateway/tollgate-tools:0.1.0');
    expect(plan.commands[0]).toEqual(['docker', 'build', '-f', 'deploy/Dockerfile', '--build-arg', 'CONFIG=deploy/.build/config.yaml',
      '--build-arg', 'WORKERD_CONFIG_ARGS=--cluster-bucket s3://llm-gateway-tollgate-cluster/prod --cluster-key-file cluster/key --cluster-region me-south-1 --cluster-credentials-file /app/cluster/credentials --cluster-endpoint https://s3.me-south-1.amazonaws.com',
      '-t', plan.image, '.']);
    // Default values: single-replica, no cluster flags; cluster values that cannot work are refused.
    expect(imagePlan({ values: chartValues(), configFile: 'x.yaml' }).commands[0]?.some((a) => a.startsWith('WORKERD_CONFIG_ARGS'))).toBe(false);
    expect(clusterConfigArgs(chartValues())).toEqual([]);
    expect(() => clusterConfigArgs({ cluster: { enabled: true, bucket: { name: 'llm-gateway' } } })).toThrow(/s3:\/\/bucket/);
    expect(() => clusterConfigArgs({ cluster: { enabled: true, bucket: { name: 's3://b/p' } } })).toThrow(/region is required/);
    expect(clusterConfigArgs({ cluster: { enabled: true, bucket: { name: 'gs://b/p' } } })).toEqual(['--cluster-bucket', 'gs://b/p', '--cluster-key-file', 'cluster/key']);
    expect(plan.commands[1]).toEqual(['docker', 'build', '-f', 'deploy/Dockerfile.tools', '-t', plan.toolsImage, '.']);
    expect(plan.configHash).toBe(configHash(readConfigYaml(GUIDE_CONFIG)));
    expect(imagePlan({ values: chartValues(), configFile: 'x.yaml', tag: 'r/t:1' }).image).toBe('r/t:1');
  });
});
