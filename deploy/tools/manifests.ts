/**
 * `helm template ... | node deploy/tools/manifests.ts`: schema checks of rendered Kubernetes
 * manifests without a cluster: every document parses and has apiVersion, kind and a valid
 * metadata.name; every kind is one this chart renders, at the API version a 1.28+ cluster serves,
 * with its required fields; and the objects agree with each other (selectors match the pods'
 * labels, named ports exist, volumes and Secrets referenced are declared, probes have paths).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

export type Manifest = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>;

/** The kinds the chart renders, at the API versions Kubernetes 1.28+ serves. */
export const KNOWN_KINDS: Record<string, string> = {
  Deployment: 'apps/v1', Service: 'v1', ConfigMap: 'v1', Secret: 'v1', ServiceAccount: 'v1', PersistentVolumeClaim: 'v1',
  Ingress: 'networking.k8s.io/v1', NetworkPolicy: 'networking.k8s.io/v1', HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1', Job: 'batch/v1', ServiceMonitor: 'monitoring.coreos.com/v1',
};

/** The documents of a multi-document YAML stream (empty ones left out); throws on a syntax error. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value as Manifest];
  });
}

/** Every label of `selector` is on `labels` with the same value. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** All containers of a pod spec: init containers (sidecars among them) and regular ones. */
export function podContainers(pod: any): any[] {
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}

function checkPod(where: string, pod: any, problems: string[]): void {
  const say = (text: string) => problems.push(`${where}: ${text}`);
  if (!pod?.containers?.length) say('no containers');
  const volumes = new Set((pod?.volumes ?? []).map((v: any) => v.name));
  const names = new Set<string>();
  for (const c of podContainers(pod)) {
    const at = `container ${c.name}`;
    if (!c.name || !c.image) say(`${at}: name and image are required`);
    if (names.has(c.name)) say(`${at}: a second container of that name`);
    names.add(c.name);
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) say(`${at}: mounts undeclared volume ${m.name}`);
    const env = (c.env ?? []).map((e: any) => e.name);
    const dup = env.find((n: string, i: number) => env.indexOf(n) !== i);
    if (dup) say(`${at}: env ${dup} twice`);
    for (const e of c.env ?? []) {
      if (!e.name || (e.value === undefined && !e.valueFrom)) say(`${at}: env ${e.name} has neither value nor valueFrom`);
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && (!ref.name || !ref.key)) say(`${at}: env ${e.name} secretKeyRef needs name and key`);
      if (e.value !== undefined && typeof e.value !== 'string') say(`${at}: env ${e.name} value must be a string`);
    }
    for (const p of c.ports ?? []) if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) say(`${at}: bad port ${p.containerPort}`);
    for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const probe = c[kind];
      if (!probe) continue;
      if (probe.httpGet && !String(probe.httpGet.path ?? '').startsWith('/')) say(`${at}: ${kind} without a path`);
      if (probe.httpGet && typeof probe.httpGet.port === 'string' && !(c.ports ?? []).some((p: any) => p.name === probe.httpGet.port)) say(`${at}: ${kind} names port ${probe.httpGet.port}, not declared`);
      if (!probe.httpGet && !probe.exec && !probe.tcpSocket && !probe.grpc) say(`${at}: ${kind} has no handler`);
    }
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') say(`${at}: an init container's restartPolicy can only be Always`);
  }
}

/** Problems found, one line each; empty when the manifests pass. */
export function checkManifests(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const m of manifests) {
    const kind = String(m.kind ?? '');
    const name = String(m.metadata?.name ?? '');
    const where = `${kind || '?'}/${name || '?'}`;
    const say = (text: string) => problems.push(`${where}: ${text}`);
    if (!m.apiVersion || !m.kind || !m.metadata?.name) {
      say('apiVersion, kind and metadata.name are required');
      continue;
    }
    if (!(kind in KNOWN_KINDS)) say(`unknown kind ${kind}`);
    else if (m.apiVersion !== KNOWN_KINDS[kind]) say(`apiVersion ${String(m.apiVersion)}, expected ${KNOWN_KINDS[kind]}`);
    if (name.length > 63 || !DNS_1123.test(name)) say('metadata.name is not a DNS-1123 name of at most 63 characters');
    if (seen.has(`${kind}/${name}`)) say('declared twice');
    seen.add(`${kind}/${name}`);
    for (const [k, v] of Object.entries(m.metadata.labels ?? {})) if (typeof v !== 'string' || v.length > 63) say(`label ${k} must be a string of at most 63 characters`);
  }
  const of = (kind: string) => manifests.filter((m) => m.kind === kind);
  const deployments = of('Deployment');
  const services = of('Service');
  const podLabels = deployments.map((d) => d.spec?.template?.metadata?.labels as Record<string, string>);

  for (const d of deployments) {
    const where = `Deployment/${String(d.metadata?.name)}`;
    if (!selects(d.spec?.selector?.matchLabels, d.spec?.template?.metadata?.labels)) problems.push(`${where}: selector does not match the pod template's labels`);
    checkPod(where, d.spec?.template?.spec, problems);
    for (const c of d.spec?.template?.spec?.containers ?? []) {
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) problems.push(`${where}: container ${c.name}: resources need cpu and memory requests and a memory limit`);
    }
  }
  for (const s of services) {
    const where = `Service/${String(s.metadata?.name)}`;
    if (!podLabels.some((labels) => selects(s.spec?.selector, labels))) problems.push(`${where}: selects no Deployment's pods`);
    const ports = deployments.flatMap((d) => podContainers(d.spec?.template?.spec).flatMap((c) => c.ports ?? []));
    for (const p of s.spec?.ports ?? []) {
      if (typeof p.targetPort === 'string' && !ports.some((cp: any) => cp.name === p.targetPort)) problems.push(`${where}: targetPort ${p.targetPort} is no container's port`);
      if (!Number.isInteger(p.port)) problems.push(`${where}: port must be a number`);
    }
  }
  const servicePort = (name: string, port: any) => services.some((s) => s.metadata?.name === name && (s.spec?.ports ?? []).some((p: any) => p.name === port?.name || p.port === port?.number || p.name === port));
  for (const i of of('Ingress')) {
    for (const rule of i.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend?.service;
        if (!['Prefix', 'Exact', 'ImplementationSpecific'].includes(path.pathType)) problems.push(`Ingress/${String(i.metadata?.name)}: pathType ${path.pathType}`);
        if (!backend || !servicePort(backend.name, backend.port)) problems.push(`Ingress/${String(i.metadata?.name)}: backend ${backend?.name} is no Service port here`);
      }
    }
  }
  for (const h of of('HorizontalPodAutoscaler')) {
    const where = `HorizontalPodAutoscaler/${String(h.metadata?.name)}`;
    if (!deployments.some((d) => d.metadata?.name === h.spec?.scaleTargetRef?.name && h.spec?.scaleTargetRef?.kind === 'Deployment')) problems.push(`${where}: scaleTargetRef is no Deployment here`);
    if (!(h.spec?.minReplicas >= 1 && h.spec?.maxReplicas >= h.spec?.minReplicas)) problems.push(`${where}: needs 1 <= minReplicas <= maxReplicas`);
    if (!h.spec?.metrics?.length) problems.push(`${where}: no metrics`);
  }
  for (const p of of('PodDisruptionBudget')) {
    if (!podLabels.some((labels) => selects(p.spec?.selector?.matchLabels, labels))) problems.push(`PodDisruptionBudget/${String(p.metadata?.name)}: selects no pods`);
    if ((p.spec?.minAvailable === undefined) === (p.spec?.maxUnavailable === undefined)) problems.push(`PodDisruptionBudget/${String(p.metadata?.name)}: exactly one of minAvailable and maxUnavailable`);
  }
  for (const sm of of('ServiceMonitor')) {
    const where = `ServiceMonitor/${String(sm.metadata?.name)}`;
    const target = services.find((s) => selects(sm.spec?.selector?.matchLabels, s.metadata?.labels));
    if (!target) problems.push(`${where}: selects no Service`);
    for (const e of sm.spec?.endpoints ?? []) {
      if (target && !(target.spec?.ports ?? []).some((p: any) => p.name === e.port)) problems.push(`${where}: endpoint port ${e.port} is not the Service's`);
      if (!String(e.path ?? '').startsWith('/')) problems.push(`${where}: endpoint without a path`);
    }
  }
  for (const np of of('NetworkPolicy')) {
    const where = `NetworkPolicy/${String(np.metadata?.name)}`;
    if (!np.spec?.podSelector) problems.push(`${where}: podSelector is required`);
    for (const rule of [...(np.spec?.ingress ?? []), ...(np.spec?.egress ?? [])]) {
      for (const peer of [...(rule.from ?? []), ...(rule.to ?? [])]) {
        if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) problems.push(`${where}: a peer with no selector`);
        if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) problems.push(`${where}: ipBlock cannot be combined with selectors`);
      }
      for (const port of rule.ports ?? []) if (!['TCP', 'UDP', 'SCTP'].includes(port.protocol ?? 'TCP')) problems.push(`${where}: protocol ${port.protocol}`);
    }
  }
  for (const j of of('Job')) {
    const spec = j.spec?.template?.spec;
    checkPod(`Job/${String(j.metadata?.name)}`, spec, problems);
    if (!['Never', 'OnFailure'].includes(spec?.restartPolicy)) problems.push(`Job/${String(j.metadata?.name)}: restartPolicy must be Never or OnFailure`);
  }
  for (const c of of('PersistentVolumeClaim')) {
    if (!c.spec?.accessModes?.length || !c.spec?.resources?.requests?.storage) problems.push(`PersistentVolumeClaim/${String(c.metadata?.name)}: accessModes and a storage request are required`);
  }
  // Every ConfigMap and claim a pod mounts is declared here (Secrets may come from outside the chart).
  for (const d of [...deployments, ...of('Job')]) {
    for (const v of d.spec?.template?.spec?.volumes ?? []) {
      if (v.configMap && !of('ConfigMap').some((c) => c.metadata?.name === v.configMap.name)) problems.push(`${String(d.kind)}/${String(d.metadata?.name)}: ConfigMap ${v.configMap.name} is not rendered`);
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !of('PersistentVolumeClaim').some((c) => c.metadata?.name === claim)) problems.push(`${String(d.kind)}/${String(d.metadata?.name)}: claim ${claim} is not rendered (an existingClaim?)`);
    }
  }
  return problems;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problems = checkManifests(parseManifests(readFileSync(process.argv[2] ?? 0, 'utf8')));
  for (const p of problems) console.error(p);
  console.log(problems.length ? `${problems.length} problem(s)` : 'manifests: no problems');
  process.exit(problems.length ? 1 : 0);
}
