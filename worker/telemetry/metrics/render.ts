import { LATENCY_BUCKETS, type MetricDef, METRIC_LIST, type Series } from './registry.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Prometheus text exposition (format 0.0.4) of the merged shards, as
 * LiteLLM's prometheus_client prints it: every declared metric gets its
 * HELP and TYPE lines (with or without series), counters end in `_total`,
 * labels are sorted (custom metadata labels among them), floats are printed
 * the Python way ("1.0", "+Inf"). Label values are escaped as the format
 * requires (backslash, double quote, line feed).
 */
export function renderMetrics(series: Iterable<Series>): string {
  const byMetric = new Map<string, Series[]>();
  for (const s of series) {
    const list = byMetric.get(s.m);
    if (list) list.push(s);
    else byMetric.set(s.m, [s]);
  }
  const out: string[] = [];
  for (const def of METRIC_LIST) {
    const exposed = def.kind === 'counter' ? `${def.name}_total` : def.name;
    const type = def.kind === 'state' ? 'gauge' : def.kind;
    out.push(`# HELP ${exposed} ${escapeHelp(def.help)}`, `# TYPE ${exposed} ${type}`);
    const list = merged(def, byMetric.get(def.name) ?? []);
    list.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    for (const { s, labels } of list) {
      if (def.kind !== 'histogram') {
        out.push(`${exposed}${braces(labels)} ${formatValue(s.v)}`);
        continue;
      }
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += s.b?.[i] ?? 0;
        out.push(`${def.name}_bucket${braces(withLe(def, s.l, formatValue(bound)))} ${formatValue(cumulative)}`);
      });
      out.push(`${def.name}_count${braces(labels)} ${formatValue(s.n ?? 0)}`);
      out.push(`${def.name}_sum${braces(labels)} ${formatValue(s.s ?? 0)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * One entry per label set. A series normally lives in one shard only; the
 * shards' own dropped-update counters (and a series caught mid-move, should
 * the shard count change) appear in several, and are added up (gauges: the
 * latest value wins).
 */
function merged(def: MetricDef, series: Series[]): { s: Series; labels: string }[] {
  const byLabels = new Map<string, Series>();
  for (const s of series) {
    const labels = labelPairs(def, s.l);
    const cur = byLabels.get(labels);
    if (!cur) {
      byLabels.set(labels, s);
      continue;
    }
    if (def.kind === 'counter') {
      byLabels.set(labels, { ...cur, v: cur.v + s.v });
    } else if (def.kind === 'histogram') {
      byLabels.set(labels, { ...cur, b: (cur.b ?? []).map((n, i) => n + (s.b?.[i] ?? 0)), s: (cur.s ?? 0) + (s.s ?? 0), n: (cur.n ?? 0) + (s.n ?? 0) });
    } else if (def.kind === 'state') {
      byLabels.set(labels, cur.v >= s.v ? cur : s);
    } else if ((s.at ?? 0) > (cur.at ?? 0)) {
      byLabels.set(labels, s);
    }
  }
  return [...byLabels].map(([labels, s]) => ({ s, labels }));
}

function braces(labels: string): string {
  return labels ? `{${labels}}` : '';
}

function labelPairs(def: MetricDef, values: readonly string[]): string {
  return namedValues(def, values).map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',');
}

/** Bucket lines: `le` takes its sorted place among the labels, as LiteLLM's output has it. */
function withLe(def: MetricDef, values: readonly string[], le: string): string {
  const pairs: string[] = [];
  let placed = false;
  for (const [name, value] of namedValues(def, values)) {
    if (!placed && name > 'le') {
      pairs.push(`le="${le}"`);
      placed = true;
    }
    pairs.push(`${name}="${escapeLabel(value)}"`);
  }
  if (!placed) pairs.push(`le="${le}"`);
  return pairs.join(',');
}

/**
 * A series' labels by name, sorted: the metric's own (already in order), and the custom labels a
 * request-level series carries after them as name/value pairs (custom-labels.ts), sorted in.
 */
function namedValues(def: MetricDef, values: readonly string[]): [string, string][] {
  const pairs = def.labels.map((name, i): [string, string] => [name, values[i] ?? '']);
  if (values.length === def.labels.length) return pairs;
  for (let i = def.labels.length; i + 1 < values.length; i += 2) pairs.push([values[i] as string, values[i + 1] as string]);
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Python's repr of a float, as prometheus_client prints values: 1 → "1.0", ∞ → "+Inf". */
export function formatValue(v: number): string {
  if (typeof v !== 'number') return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v);
}
